"""The models a task may choose (MODELS) as the model list and fallbacks of LiteLLM's Router.

LiteLLM's Router does the handing over (`fallbacks`): a model failing for a reason that heals
(unreachable, a timeout, 429, a 5xx) hands the call to the next one of MODEL_FALLBACKS. This
module only says what the Router is built from; `scheduler/llm.py`, the one importer of
LiteLLM, builds it.

LLM_API_BASE and LLM_API_KEY go to every model, except where the provider's own variables
(OPENAI_API_KEY, ANTHROPIC_API_BASE, …, as LiteLLM reads them) are set: those win.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from storage.records import Task, TaskMode

# Where LiteLLM reports the model group (our name) that answered, after any fallback.
ANSWERED_BY_HEADER = "x-litellm-model-group"


@dataclass(frozen=True, slots=True)
class ModelRoutes:
    """MODELS and MODEL_FALLBACKS, with the credentials every model shares."""

    models: Mapping[str, str] = field(default_factory=dict)
    fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    api_base: str | None = None
    api_key: str | None = None

    def routes(self, model: str) -> bool:
        """Whether `model` is a name of MODELS (and so goes through the Router)."""
        return model in self.models

    def router_arguments(
        self,
        has_own_key: Callable[[str], bool],
        environ: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The Router's arguments. `has_own_key(model)` says whether the provider's own key
        variable is set (LiteLLM's `validate_environment`); one attempt a model, no cool-down
        (each run decides afresh), retries being the runner's business."""
        environ = os.environ if environ is None else environ
        model_list = []
        for name, model in self.models.items():
            parameters: dict[str, Any] = {"model": model}
            provider = model.partition("/")[0].upper() if "/" in model else ""
            own_base = bool(provider) and any(
                environ.get(f"{provider}_{suffix}", "").strip()
                for suffix in ("API_BASE", "BASE_URL")
            )
            if self.api_base is not None and not own_base:
                parameters["api_base"] = self.api_base
            if self.api_key is not None and not has_own_key(model):
                parameters["api_key"] = self.api_key
            model_list.append({"model_name": name, "litellm_params": parameters})
        return {
            "model_list": model_list,
            "fallbacks": [{name: list(chain)} for name, chain in self.fallbacks.items()],
            "num_retries": 0,
            "disable_cooldowns": True,
        }


def answered_by(hidden: object, requested: str) -> str:
    """The model group that answered a routed call, from the response's hidden parameters."""
    if isinstance(hidden, Mapping):
        headers = hidden.get("additional_headers")
        if isinstance(headers, Mapping):
            group = headers.get(ANSWERED_BY_HEADER)
            if isinstance(group, str) and group:
                return group
    return requested


def build_router(litellm: Any, routes: ModelRoutes) -> Any:
    """LiteLLM's Router over MODELS (`litellm` is the module scheduler/llm.py loaded)."""

    def has_own_key(model: str) -> bool:
        found = litellm.validate_environment(model=model)
        return bool(found.get("keys_in_environment"))

    return litellm.Router(**routes.router_arguments(has_own_key))


def run_price(
    litellm: Any, routes: ModelRoutes, name: str, prompt_tokens: int, completion_tokens: int
) -> float | None:
    """What LiteLLM's cost map says a call of `name` (of MODELS, or a LiteLLM model) with these
    tokens costs (USD); None when the map does not know the model."""
    model = routes.models.get(name, name)
    try:
        prompt, completion = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # noqa: BLE001 - LiteLLM raises its own, ValueError, KeyError for unknown models
        return None
    total = float(prompt) + float(completion)
    return total if total > 0 else None


def task_model(task: Task, default: str, names: Sequence[str]) -> str:
    """The model a task runs on: its own choice of MODELS (`names`), else `default`
    (LLM_MODEL)."""
    if task.model is not None and task.model in names:
        return task.model
    return default


def asked_model(task: Task, answered: str | None, default: str, names: Sequence[str]) -> str | None:
    """The model a run asked, for its record: the one that `answered` (after any fallback),
    else the task's own (its call failed); None for a reminder or a bot with no model."""
    if answered is not None:
        return answered
    if task.mode is TaskMode.REMINDER or not default:
        return None
    return task_model(task, default, names)
