"""Rasa's own command line, with its HTTP API guarded, two measured performance fixes and two start-up fixes
(`python -m bot.rasa_server run ...`), and TensorFlow's thread pools sized for a replica of one CPU.

The guard (bot/api_guard.py) is installed on the Sanic app that `rasa.core.run.configure_app` builds: every route
other than the channels' webhooks needs the API token in an Authorization header. This reaches into Rasa, so it is
applied only to the Rasa version it was written and tested for (tests/security/test_rasa_api.py).

Profiling the Rasa server under load (py-spy, bench/run.py) showed two hot spots that do constant work again
on every turn; both fixes keep Rasa's behaviour:
- every action server response is checked with `jsonschema.validate`, which re-checks the large, constant
  schema and builds a new validator each call (about 40 % of the CPU per turn): one validator is built once,
  and invalid responses are still rejected with the same error;
- every stored event is deserialised through `Event.resolve_by_type`, which walks all Event subclasses each
  time (about 10 %): the type name -> class map is cached and rebuilt when a new name appears.

Profiling a replica's start (bench/startup.py: py-spy, -X importtime, RSS) showed where start-up time and memory
go; two fixes keep every answer and every NLU prediction identical:
- Rasa loads the DIET model by *training it for one step* (`RasaModel.load` calls `fit` on one example) only to
  create its variables, then overwrites them all from the checkpoint. Tracing that training step (the gradients
  of the CRF and the transformer) took 17-22 s of the 25 s from start to ready, and its graphs and the optimizer's
  slots 0.56 GB of the 1.5 GB RSS. `_load_for_prediction` restores the same checkpoint before any variable
  exists and runs the one prediction Rasa runs after loading (it traces the prediction graph): TensorFlow gives
  each variable its value from the checkpoint as the prediction creates it. All 39 variables, and the intents,
  confidences and entities of the 1,682 messages in tests/nlu, are bit-identical to Rasa's way. Should a variable
  have no value in the checkpoint, it falls back to Rasa's `load` (with a warning); fine-tuning (`finetune_mode`)
  always uses Rasa's `load`.
- TensorFlow 2.12 (the version Rasa 3.6.21 pins) imports jax, when installed (TensorFlow's own requirements
  install it), for the TFLite converter of jax models, and goes on without it when the import fails. The server
  never converts models: `keep_jax_out` makes that import fail, before TensorFlow is imported, which saves
  about 0.4 s of CPU and 95 MB of RSS per replica.
A third setting bounds what a replica costs on a bigger host: TensorFlow sizes its intra-op and inter-op thread
pools to the host's cores, not to the replica's one CPU; `one_thread_per_pool` gives each one thread, as the
server's own default (not in bot/cli.py's environment(), which `python -m bot train` uses too: training uses
the cores). With pools of 16 threads, as on a 16-core host, one thread each saved 18 MB of RSS after a load and
30 threads, at the same turns/s (on a 2-core machine, pools of 2, the difference is within the noise); the
predictions stay bit-identical (tests/nlu, 1,682 messages).
"""

from __future__ import annotations

import gc
import logging
import sys
from functools import cache, wraps
from typing import Any

from bot.rasa_compat import UntestedRasaVersion, check_rasa_version  # imports `rasa` alone: no TensorFlow yet


def keep_jax_out() -> None:
    """Make `import jax` fail as if jax were not installed (TensorFlow then leaves its jax support out); in the
    server process only, before TensorFlow is imported (the imports below import it)."""
    try:
        check_rasa_version()
    except UntestedRasaVersion:
        return  # main() stops with the message
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


if __name__ == "__main__":
    keep_jax_out()

import rasa.core.run  # noqa: E402
import tensorflow as tf  # noqa: E402
from jsonschema import ValidationError  # noqa: E402
from jsonschema.validators import validator_for  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.shared.constants import DOCS_BASE_URL  # noqa: E402
from rasa.shared.core.events import Event  # noqa: E402
from rasa.shared.utils.common import all_subclasses  # noqa: E402
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY  # noqa: E402
from rasa.utils.tensorflow.model_data import RasaModelData  # noqa: E402
from rasa.utils.tensorflow.models import RasaModel  # noqa: E402

from bot import api_guard  # noqa: E402
from bot.secret_store import RASA_API_TOKEN, shared_secret  # noqa: E402

logger = logging.getLogger(__name__)


@cache
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise


_event_classes: dict[str, type[Event]] = {}
_original_resolve_by_type = Event.resolve_by_type


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    if type_name not in _event_classes:
        # First match wins, as in Rasa's own loop over all_subclasses(Event).
        _event_classes.update({c.type_name: c for c in reversed(all_subclasses(Event))})
    found = _event_classes.get(type_name)
    return found if found is not None else _original_resolve_by_type(type_name, default)


_original_model_load = RasaModel.load.__func__  # type: ignore[attr-defined]


def _load_for_prediction(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """`RasaModel.load` without the one training step: the same model, with the same restored weights, traced for
    prediction as Rasa traces it."""
    if finetune_mode or predict_data_example is None:
        return _original_model_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                                    *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    # The variables do not exist yet: TensorFlow restores each one from the checkpoint as it is created (deferred
    # restoration), here by the prediction that Rasa runs once after loading to trace the prediction graph.
    status = model.load_weights(model_file_name)
    model.run_inference(predict_data_example)
    try:
        if status is None:
            raise AssertionError("not a TensorFlow checkpoint")
        status.assert_existing_objects_matched()  # every variable the prediction uses has its value from the file
        status.expect_partial()  # the optimizer's slots stay in the file: serving never trains (no warnings)
    except AssertionError as error:
        logger.warning(f"Loading {cls.__name__} by Rasa's own way (with a training step): {error}")
        return _original_model_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                                    *args, **kwargs)
    return model


def apply_fixes() -> None:
    check_rasa_version()
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]
    RasaModel.load = classmethod(_load_for_prediction)  # type: ignore[method-assign,assignment]


async def freeze_loaded_objects(_app: Any, _loop: Any) -> None:
    """after_server_start: the model, spaCy and TensorFlow are loaded (before_server_start). A full garbage
    collection walks every tracked object; on this heap it stalls the event loop for about a second, and a client
    sending many requests makes collections frequent. What is loaded now lives as long as the process: moved to
    the permanent generation (gc.freeze), it is no longer walked."""
    gc.collect()
    gc.freeze()


def guard_api(token: str) -> None:
    """Make every app Rasa builds from now on answer only the webhooks without `token` (see bot/api_guard.py)."""
    check_rasa_version()
    original = rasa.core.run.configure_app
    if getattr(original, "guarded", False):
        return

    @wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        api_guard.install(app, token)
        app.register_listener(freeze_loaded_objects, "after_server_start")
        return app

    configure_app.guarded = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


def one_thread_per_pool() -> None:
    """TensorFlow's two thread pools for a replica of one CPU (docs/deploy.md), whatever the host's cores; before
    TensorFlow runs anything. Rasa then applies TF_INTRA_OP_PARALLELISM_THREADS and TF_INTER_OP_PARALLELISM_THREADS
    when they are set, so a deployer can still choose other sizes."""
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def main() -> None:
    try:
        apply_fixes()
    except UntestedRasaVersion as error:
        raise SystemExit(str(error)) from error
    one_thread_per_pool()
    guard_api(shared_secret(RASA_API_TOKEN))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
