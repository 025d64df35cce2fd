"""Configuration layers and fail-fast validation."""

from __future__ import annotations

import pytest

from fieldcheck.config import ConfigError, load_config


def test_layers_defaults_file_env_override(tmp_path):
    config_file = tmp_path / "fc.toml"
    config_file.write_text('per_page_max = 100\nlog_level = "WARNING"\n')
    env = {"FIELDCHECK_CONFIG": str(config_file), "FIELDCHECK_PER_PAGE_MAX": "200"}
    config = load_config(environ=env, instance_path=str(tmp_path))
    assert config["PER_PAGE_DEFAULT"] == 50  # default
    assert config["LOG_LEVEL"] == "WARNING"  # file
    assert config["PER_PAGE_MAX"] == 200  # env beats file
    assert (
        load_config({"PER_PAGE_MAX": 7}, environ=env, instance_path=str(tmp_path))["PER_PAGE_MAX"]
        == 7
    )  # override beats env


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FIELDCHECK_PER_PAGE_MAX": "lots"}, "PER_PAGE_MAX (from FIELDCHECK_PER_PAGE_MAX)"),
        ({"FIELDCHECK_PER_PAGE_MAX": "0"}, "must be greater than 0"),
        ({"FIELDCHECK_DISPLAY_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
        ({"FIELDCHECK_DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"FIELDCHECK_PER_PAGE_MAXX": "1"}, "unknown setting"),
        ({"FIELDCHECK_CONFIG": "/nonexistent.toml"}, "does not exist"),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_key(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(environ=env, instance_path=str(tmp_path))


def test_unknown_key_in_file_is_named(tmp_path):
    config_file = tmp_path / "fc.toml"
    config_file.write_text("[scheduler]\ncronn = '0 2 * * *'\n")
    with pytest.raises(ConfigError, match="scheduler_cronn"):
        load_config(environ={"FIELDCHECK_CONFIG": str(config_file)}, instance_path=str(tmp_path))


def test_broken_toml_is_reported(tmp_path):
    config_file = tmp_path / "fc.toml"
    config_file.write_text("per_page_max = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(environ={"FIELDCHECK_CONFIG": str(config_file)}, instance_path=str(tmp_path))


def test_example_config_file_is_valid(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    config = load_config(environ={"FIELDCHECK_CONFIG": str(example)}, instance_path=str(tmp_path))
    assert config["DATABASE_URL"].startswith("sqlite:///")


def test_every_setting_is_documented_in_the_example_file():
    import tomllib
    from pathlib import Path

    from fieldcheck.config import SETTINGS, _flatten_toml

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    documented = set(_flatten_toml(tomllib.loads(example.read_text(encoding="utf-8"))))
    assert set(SETTINGS) <= documented, sorted(set(SETTINGS) - documented)


def test_every_error_code_is_documented():
    from pathlib import Path

    from fieldcheck.errors import CATALOGUE

    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    assert [code for code in CATALOGUE if f"`{code}`" not in docs] == []


def test_an_in_memory_sqlite_url_starts():
    """A throwaway in-memory database (a developer's quick try) starts: its one-connection pool
    takes no pool timeout, which used to stop create_app with a TypeError."""
    from fieldcheck import create_app

    for url in ("sqlite://", "sqlite:///:memory:"):
        app = create_app({"DATABASE_URL": url})
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_timeout") is None
