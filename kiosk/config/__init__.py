"""Configuration: one TOML file over defaults shipped beside the code.

`load_config(path)` reads `defaults.toml`, lays the site's file over it key by key, and
validates the result. Every problem is reported at once, each with its key, its line in the
site's file and, for a misspelt key, a "did you mean". `show_config` masks secrets.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from kiosk.config.cases import CasesConfig, StationConfig
from kiosk.config.deliveries import DeliveriesConfig
from kiosk.devices.config import DevicesConfig
from kiosk.domain.errors import ConfigError
from kiosk.domain.values import Purpose

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")
DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
Language = Literal["zh_Hans", "zh_Hant", "en"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Translations = dict[Language, str]


class SiteConfig(_Section):
    name: str
    kiosk_name: str
    languages: list[Language] = Field(min_length=1)
    default_language: Language
    #: The language every badge is printed in; empty: the language the visitor chose.
    badge_language: Language | Literal[""] = ""
    timezone: str
    opening_hours: list[str]
    open_days: list[Weekday]
    after_hours: Literal["closed", "appointments_only", "open"]
    end_of_day: str
    greeting: Translations
    closed_message: Translations
    #: The visit purposes offered first; the others are under "More".
    common_purposes: list[Purpose] = Field(min_length=1, max_length=6)

    @field_validator("common_purposes")
    @classmethod
    def _each_once(cls, value: list[Purpose]) -> list[Purpose]:
        return list(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Asia/Shanghai')") from err
        return value

    @field_validator("opening_hours")
    @classmethod
    def _hour_ranges(cls, value: list[str]) -> list[str]:
        for item in value:
            match = _HOURS.match(item)
            if not match or item[:5] >= item[6:]:
                raise ValueError(f"{item!r} is not a range like '09:00-12:00'")
        return value

    @field_validator("end_of_day")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time like '22:00'")
        return value

    @model_validator(mode="after")
    def _default_language_offered(self) -> SiteConfig:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def opening_ranges(self) -> list[tuple[time, time]]:
        ranges = []
        for item in self.opening_hours:
            start, end = item.split("-")
            end_time = time(23, 59, 59) if end == "24:00" else time.fromisoformat(end)
            ranges.append((time.fromisoformat(start), end_time))
        return ranges

    @property
    def end_of_day_time(self) -> time:
        return time.fromisoformat(self.end_of_day)


class StorageConfig(_Section):
    data_dir: Path
    database: str
    backup_dir: str
    backups_kept: int = Field(ge=1, le=365)


class KeysConfig(_Section):
    dir: Path


class InvitationsConfig(_Section):
    early_minutes: int = Field(ge=0, le=24 * 60)
    late_minutes: int = Field(ge=0, le=24 * 60)


class MatchingConfig(_Section):
    fuzzy_threshold: float = Field(ge=50, le=100)


class OfficeConfig(_Section):
    url: str

    @property
    def configured(self) -> bool:
        return bool(self.url)


class NotificationsConfig(_Section):
    reception: list[SecretStr]
    security: list[SecretStr]
    vip: list[SecretStr]
    escalation_seconds: int = Field(ge=10)
    language: Language | Literal[""] = ""
    link_base_url: str = ""
    forward_after_failures: int = Field(default=2, ge=1)
    forward_after_seconds: int = Field(default=30, ge=0)


class RetentionConfig(_Section):
    visitor_details_days: int = Field(ge=1)
    photos_days: int = Field(ge=1)
    signatures_days: int = Field(ge=1)
    messages_days: int = Field(ge=1)
    sent_events_days: int = Field(ge=1)
    parcels_days: int = Field(default=90, ge=1)
    audit_in_database_days: int = Field(default=90, ge=1)


class AdminConfig(_Section):
    pin_hash: SecretStr
    guard_pin_hash: SecretStr


class VisitorTypeConfig(_Section):
    label: Translations
    photo_required: bool = False
    agreement: str | None = None
    walk_in_needs_approval: bool = False
    escort_required: bool = False
    badge_valid_hours: float = Field(default=8.0, gt=0, le=24)
    reject_expired_documents: bool = True
    band: Literal["solid", "inverse"] = "solid"


class AgreementConfig(_Section):
    version: str
    title: Translations
    text: Translations


class KioskConfig(_Section):
    site: SiteConfig
    storage: StorageConfig
    keys: KeysConfig
    invitations: InvitationsConfig
    matching: MatchingConfig
    office: OfficeConfig
    notifications: NotificationsConfig
    retention: RetentionConfig
    admin: AdminConfig
    visitor_types: dict[str, VisitorTypeConfig] = Field(min_length=1)
    agreements: dict[str, AgreementConfig] = Field(default_factory=dict)
    devices: DevicesConfig = Field(default_factory=DevicesConfig)
    kiosk: StationConfig = Field(default_factory=StationConfig)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    deliveries: DeliveriesConfig = Field(default_factory=DeliveriesConfig)
    #: The file this was loaded from; relative paths are resolved against its folder.
    source: Path | None = None

    @model_validator(mode="after")
    def _agreements_exist(self) -> KioskConfig:
        for name, kind in self.visitor_types.items():
            if kind.agreement and kind.agreement not in self.agreements:
                known = ", ".join(sorted(self.agreements)) or "none defined"
                raise ValueError(
                    f"visitor_types.{name}.agreement {kind.agreement!r} "
                    f"is not an agreement ({known})"
                )
        return self

    @property
    def base_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else self.base_dir / path

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.storage.data_dir)

    @property
    def database_path(self) -> Path:
        return self.data_dir / self.storage.database

    @property
    def backup_dir(self) -> Path:
        if self.storage.backup_dir:
            return self.resolve(Path(self.storage.backup_dir))
        return self.data_dir.parent / "backups"

    @property
    def keys_dir(self) -> Path:
        return self.resolve(self.keys.dir)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else $KIOSK_CONFIG, else /etc/kiosk/kiosk.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("KIOSK_CONFIG")
    return Path(from_env) if from_env else DEFAULT_PATH


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(
            [f"no configuration file at {path}; create one with `kiosk init --config {path}`"]
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"cannot read {path}: {err}"]) from err
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"not valid TOML: {err}"], str(path)) from err


def find_line(text: str, location: tuple[str | int, ...]) -> int | None:
    """The line of `location` (a key path) in TOML `text`, or of its nearest named ancestor."""
    keys = [str(part) for part in location if isinstance(part, str)]
    table: list[str] = []
    best: tuple[int, int] | None = None  # (matched depth, line)
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    assignment = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            table = [part.strip().strip("\"'") for part in found.group(1).split(".")]
            path = table
        else:
            found = assignment.match(line)
            if not found:
                continue
            path = table + [part.strip().strip("\"'") for part in found.group(1).split(".")]
        depth = 0
        for mine, wanted in zip(path, keys, strict=False):
            if mine != wanted:
                break
            depth += 1
        if depth == len(path) and depth > 0 and (best is None or depth > best[0]):
            best = (depth, number)
    return best[1] if best else None


def _known_keys(model: type[BaseModel], location: tuple[str | int, ...]) -> list[str]:
    """The keys allowed beside the last element of `location`, walking the schema."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = getattr(current, "__args__", ())
            current = args[-1] if args else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _describe_error(error: Any, text: str) -> str:
    location = tuple(part for part in error["loc"])
    key = ".".join(str(part) for part in location) or "(top level)"
    line = find_line(text, location)
    where = f"{key} (line {line})" if line else key
    if error["type"] == "extra_forbidden":
        known = _known_keys(KioskConfig, location)
        close = difflib.get_close_matches(str(location[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
        return f"{where}: unknown key{hint}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"


def load_config(path: str | os.PathLike[str] | None = None) -> KioskConfig:
    """Load and validate the configuration; raise ConfigError listing every problem."""
    source = config_path(path).resolve()
    defaults, _ = _read_toml(DEFAULTS_FILE)
    site, text = _read_toml(source)
    if "source" in site:
        raise ConfigError(["source: unknown key (it is set by the loader)"], str(source))
    try:
        return KioskConfig.model_validate({**_merge(defaults, site), "source": source})
    except ValidationError as err:
        problems = [_describe_error(error, text) for error in err.errors()]
        raise ConfigError(problems, str(source)) from err


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if not secret:
            return ""
        scheme = secret.split("://", 1)[0] + "://" if "://" in secret else ""
        return f"{scheme}********"
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def masked_dict(config: KioskConfig) -> dict[str, Any]:
    """The configuration in force as plain data, with every secret masked."""
    raw = {name: getattr(config, name) for name in KioskConfig.model_fields}

    def expand(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return {name: expand(getattr(value, name)) for name in type(value).model_fields}
        if isinstance(value, dict):
            return {key: expand(item) for key, item in value.items()}
        if isinstance(value, list):
            return [expand(item) for item in value]
        return value

    return _mask(expand(raw))
