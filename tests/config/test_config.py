"""Configuration: defaults beside the code, every error at once with key, line and a
"did you mean", and secrets masked when shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.config import config_path, load_config, masked_dict
from kiosk.domain.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_gets_every_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[site]\nname = "Tower A"\n'))
    assert config.site.name == "Tower A"
    assert config.site.languages == ["zh_Hans", "zh_Hant", "en"]
    assert config.site.greeting["zh_Hans"].startswith("您好")
    assert config.database_path == tmp_path / "data" / "kiosk.sqlite3"
    assert config.keys_dir == tmp_path / "keys"
    assert {"visitor", "contractor", "interview"} <= set(config.visitor_types)
    assert config.retention.visitor_details_days == 90


def test_every_problem_is_reported_at_once_with_line_and_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\n".join(
            [
                "[site]",
                'name = "T"',
                'greting = "hello"',
                'timezone = "Mars/Olympus"',
                'opening_hours = ["9-12"]',
                "",
                "[visitor_types.visitor]",
                "photo_requird = true",
                "",
                "[retention]",
                "photos_days = -3",
            ]
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = "\n".join(caught.value.problems)
    assert len(caught.value.problems) == 5
    assert "site.greting (line 3): unknown key; did you mean 'greeting'?" in problems
    assert "site.timezone (line 4): unknown time zone 'Mars/Olympus'" in problems
    assert "site.opening_hours (line 5)" in problems
    assert (
        "visitor_types.visitor.photo_requird (line 8): unknown key; did you mean 'photo_required'?"
        in problems
    )
    assert "retention.photos_days (line 11)" in problems


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, '[site]\nname = "unterminated\n'))
    assert "line 2" in str(caught.value)


def test_a_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml")
    assert "kiosk init --config" in str(caught.value)


def test_an_agreement_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, '[visitor_types.visitor]\nagreement = "nda"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "'nda' is not an agreement" in str(caught.value)


def test_secrets_are_masked_when_shown(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[notifications]\nreception = ["mailtos://desk:hunter2@mail.example.com"]\n'
        '[admin]\npin_hash = "$argon2id$v=19$secret"\n',
    )
    config = load_config(path)
    shown = json.dumps(masked_dict(config))
    assert "hunter2" not in shown and "argon2id" not in shown
    assert "mailtos://********" in shown
    assert config.notifications.reception[0].get_secret_value().endswith("mail.example.com")


def test_the_config_path_comes_from_the_flag_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", "/tmp/from-env.toml")
    assert config_path("/tmp/flag.toml") == Path("/tmp/flag.toml")
    assert config_path(None) == Path("/tmp/from-env.toml")
    monkeypatch.delenv("KIOSK_CONFIG")
    assert config_path(None) == Path("/etc/kiosk/kiosk.toml")
