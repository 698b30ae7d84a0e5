"""Config validation names the field and never echoes a secret; secrets are masked in configs, log lines
and the error traces the entrypoint prints."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ferry.cdk import ReadContext, Source, Stream, StreamItem
from ferry.cdk.entrypoint import launch
from ferry.cdk.secrets import Masker, MaskingFilter, install_log_masking, mask, register_secrets
from ferry.cdk.spec import MASK, mask_config, secret_values, validate_config
from ferry.errors import ConfigError, TransientError
from ferry.protocol import (
    ConfiguredCatalog,
    ConfiguredStream,
    ConnectorSpecification,
    FailureType,
    Type,
    decode,
    dumps,
    to_obj,
)

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["host", "password"],
    "additionalProperties": False,
    "properties": {
        "host": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "mode": {"type": "string", "enum": ["append", "overwrite"]},
        "password": {"type": "string", "minLength": 8, "airbyte_secret": True},
        "ssl": {
            "type": "object",
            "required": ["ca"],
            "properties": {"ca": {"type": "string"}, "key": {"type": "string", "airbyte_secret": True}},
        },
        "options": {"type": "object", "properties": {"retries": {"type": "integer"}}},
        "credentials": {
            "type": "object",
            "oneOf": [
                {
                    "required": ["auth_type", "api_key"],
                    "properties": {
                        "auth_type": {"const": "key"},
                        "api_key": {"type": "string", "airbyte_secret": True},
                    },
                },
                {
                    "required": ["auth_type", "token"],
                    "properties": {
                        "auth_type": {"const": "oauth"},
                        "token": {"type": "string", "airbyte_secret": True},
                    },
                },
            ],
        },
        "tunnels": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "ssh_key": {"type": "string", "airbyte_secret": True},
                },
            },
        },
    },
}


def _secret() -> str:
    # Unique per test: the process-wide masker keeps every secret it was ever given.
    return f"s3cr3t-{uuid.uuid4().hex[:12]}"


def _config(**changes: Any) -> dict[str, Any]:
    return {"host": "db.example.com", "password": "correct-horse", **changes}


def _error(config: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate_config(SCHEMA, config, connector="source-test")
    return caught.value


# --- validate_config ---------------------------------------------------------------------------


def test_valid_config_passes() -> None:
    validate_config(
        SCHEMA,
        _config(port=5432, mode="append", ssl={"ca": "x"}, credentials={"auth_type": "key", "api_key": "k"}),
    )


@pytest.mark.parametrize(
    ("config", "field", "text"),
    [
        ({"password": "correct-horse"}, "host", "config is missing the required field 'host'"),
        (_config(ssl={}), "ssl.ca", "config is missing the required field 'ssl.ca'"),
        (_config(port="5432"), "port", "config field 'port' is invalid: '5432' is not of type 'integer'"),
        (
            _config(port=70000),
            "port",
            "config field 'port' is invalid: 70000 is greater than the maximum of 65535",
        ),
        (_config(options={"retries": "3"}), "options.retries", "'3' is not of type 'integer'"),
        (
            _config(mode="upsert"),
            "mode",
            "config field 'mode' is invalid: 'upsert' is not one of ['append', 'overwrite']",
        ),
        (
            _config(tunnels=[{"name": 7}]),
            "tunnels.0.name",
            "config field 'tunnels.0.name' is invalid: 7 is not of type",
        ),
        (_config(colour="blue"), "(config)", "config has an unknown field at '(config)'"),
    ],
)
def test_validation_error_names_the_field(config: dict[str, Any], field: str, text: str) -> None:
    error = _error(config)
    assert error.field == field
    assert text in str(error)
    assert error.failure_type is FailureType.config_error
    assert error.connector == "source-test"
    assert error.hint


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda s: _config(password=12345678), id="secret-not-a-string"),
        pytest.param(lambda s: _config(password=s[:6]), id="secret-too-short"),
        pytest.param(lambda s: _config(ssl={"ca": "x", "key": [s]}), id="nested-secret-wrong-type"),
        pytest.param(
            lambda s: _config(credentials={"auth_type": "nope", "api_key": s}), id="oneOf-holding-secret"
        ),
        pytest.param(lambda s: _config(credentials=s), id="secret-where-its-object-belongs"),
        pytest.param(lambda s: _config(tunnels=[{"ssh_key": s}, "oops"]), id="array-holding-secret"),
        pytest.param(lambda s: _config(password=s, port=s), id="secret-also-in-plain-field"),
        pytest.param(lambda s: {"host": "h", "password": s, "ssl": s}, id="secret-as-wrong-object"),
    ],
)
def test_validation_error_never_echoes_a_secret(build: Any) -> None:
    secret = _secret()
    config = build(secret)
    error = _error(config)
    shown = str(error) + repr(error.to_dict())
    assert secret not in shown
    assert secret[:6] not in shown
    assert "12345678" not in shown
    assert error.field  # still says where


def test_secret_type_error_still_says_what_is_wrong() -> None:
    error = _error(_config(password=12345678))
    assert error.field == "password"
    assert "type 'string'" in str(error)


# --- secret values and masked configs -------------------------------------------------------------


def test_secret_values_finds_every_secret() -> None:
    config = _config(
        ssl={"ca": "ca-text", "key": "key-text"},
        credentials={"auth_type": "key", "api_key": "api-key-text"},
        tunnels=[{"name": "a", "ssh_key": "ssh-1"}, {"name": "b", "ssh_key": 4242}],
    )
    assert secret_values(SCHEMA, config) == {"correct-horse", "key-text", "api-key-text", "ssh-1", "4242"}


def test_mask_config_masks_every_secret_and_copies() -> None:
    config = _config(
        ssl={"ca": "ca-text", "key": "key-text"},
        credentials={"auth_type": "oauth", "token": "tok"},
        tunnels=[{"name": "a", "ssh_key": "ssh-1"}],
    )
    masked = mask_config(SCHEMA, config)
    assert masked == {
        "host": "db.example.com",
        "password": MASK,
        "ssl": {"ca": "ca-text", "key": MASK},
        "credentials": {"auth_type": "oauth", "token": MASK},
        "tunnels": [{"name": "a", "ssh_key": MASK}],
    }
    assert config["password"] == "correct-horse"
    assert config["ssl"]["key"] == "key-text"


# --- masking text and log lines ------------------------------------------------------------------


def test_masker_replaces_longest_secret_first_and_keeps_short_ones() -> None:
    masker = Masker(["abcd", "abcdefgh", "xy"])
    assert masker("user abcdefgh and abcd, not xy") == f"user {MASK} and {MASK}, not xy"
    assert Masker()("nothing to hide") == "nothing to hide"


@pytest.fixture
def log_output() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"ferry.test.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    install_log_masking(logger)
    install_log_masking(logger)  # twice: still one filter
    yield logger, out
    logger.removeHandler(handler)


def test_masking_filter_masks_messages_args_and_tracebacks(
    log_output: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log_output
    secret = _secret()
    register_secrets([secret])
    logger.warning("connecting with password=%s", secret)
    logger.info(f"plain text {secret}")
    try:
        raise ValueError(f"server said: bad password {secret}")
    except ValueError:
        logger.exception("login failed")
    text = out.getvalue()
    assert secret not in text
    assert text.count(MASK) == 3
    assert "ValueError: server said: bad password" in text
    handler = logger.handlers[0]
    assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1


def test_mask_uses_every_registered_secret() -> None:
    first, second = _secret(), _secret()
    register_secrets([first])
    register_secrets([second, "ab"])
    assert mask(f"{first}/{second}/ab") == f"{MASK}/{MASK}/ab"


# --- the entrypoint prints no secret ------------------------------------------------------------


class _Leaky(Stream):
    name = "items"

    def __init__(self, password: str) -> None:
        self.password = password

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"id": {"type": "integer"}}}

    def read(self, ctx: ReadContext) -> Iterator[StreamItem]:
        yield {"id": 1}
        logging.getLogger("ferry.test.leaky").warning("retrying with password %s", self.password)
        raise RuntimeError(f"the server rejected password {self.password}")


class LeakySource(Source):
    """Puts its password into every error and log line it can; the kit must mask all of them."""

    name = "leaky"
    failure: ClassVar[str] = "transient"

    def spec(self) -> ConnectorSpecification:
        return ConnectorSpecification(SCHEMA)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [_Leaky(config["password"])]

    def check(self, config: Mapping[str, Any]) -> None:
        password = config["password"]
        if self.failure == "config":
            raise ConfigError(f"wrong password {password}", field="password")
        if self.failure == "transient":
            raise TransientError(f"login as admin/{password} timed out")
        raise RuntimeError(f"driver crashed on {password}")


def _launch(connector: Source, tmp_path: Path, *args: str, config: dict[str, Any]) -> tuple[int, bytes]:
    (tmp_path / "config.json").write_bytes(dumps(config))
    stdout = io.BytesIO()
    code = launch(connector, [args[0], "--config", str(tmp_path / "config.json"), *args[1:]], stdout=stdout)
    return code, stdout.getvalue()


@pytest.mark.parametrize(("failure", "exit_code"), [("config", 0), ("transient", 1), ("crash", 1)])
def test_check_errors_never_print_the_password(tmp_path: Path, failure: str, exit_code: int) -> None:
    secret = _secret()
    source = LeakySource()
    source.failure = failure
    code, out = _launch(source, tmp_path, "check", config=_config(password=secret))
    assert code == exit_code
    assert secret not in out.decode()
    assert MASK.encode() in out
    kinds = [decode(line).type for line in out.splitlines()]
    assert kinds == ([Type.CONNECTION_STATUS] if failure == "config" else [Type.TRACE])


def test_read_failure_and_logs_never_print_the_password(tmp_path: Path) -> None:
    secret = _secret()
    catalog = ConfiguredCatalog([ConfiguredStream(s) for s in LeakySource().discover(_config()).streams])
    (tmp_path / "catalog.json").write_bytes(dumps(to_obj(catalog)))
    code, out = _launch(
        LeakySource(),
        tmp_path,
        "read",
        "--catalog",
        str(tmp_path / "catalog.json"),
        config=_config(password=secret),
    )
    assert code == 1
    assert secret not in out.decode()
    messages = [decode(line) for line in out.splitlines()]
    logs = [m.log.message for m in messages if m.log is not None]
    errors = [m.trace.error for m in messages if m.trace is not None and m.trace.error is not None]
    assert any(f"retrying with password {MASK}" in line for line in logs)
    assert errors
    assert all(MASK in e.message for e in errors)
    assert any(e.stack_trace and "RuntimeError" in e.stack_trace for e in errors)


def test_invalid_secret_in_config_file_is_not_printed(tmp_path: Path) -> None:
    secret = _secret()
    code, out = _launch(
        LeakySource(),
        tmp_path,
        "discover",
        config=_config(credentials={"auth_type": "nope", "api_key": secret}),
    )
    assert code == 1
    assert secret not in out.decode()
    (message,) = [decode(line) for line in out.splitlines()]
    assert message.trace is not None
    assert message.trace.error is not None
    assert message.trace.error.failure_type is FailureType.config_error
    assert "credentials" in message.trace.error.message
