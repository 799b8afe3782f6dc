"""The routing file: which channels hear about which alert transitions.

```yaml
defaults:                 # optional; every key optional
  max_attempts: 5         # HTTP attempts before a delivery is dead-lettered
  backoff_s: 1.0          # first retry delay, doubled per attempt (jittered) ...
  backoff_max_s: 30.0     # ... up to this
  timeout_s: 5.0          # per request
  rate_per_minute: 600    # per channel, unless the channel sets its own (default: per
                          # type: webhook 600, feishu 100, dingtalk 20, wecom 20, slack 60)
channels:
  ops-hook: {type: webhook, url: "http://127.0.0.1:8080/hook"}
  pay-lark: {type: feishu, url: "https://.../hook/...", secret: "..."}   # secret: signed bot
  pay-ding: {type: dingtalk, url: "https://.../robot/send?access_token=...", secret: "SEC..."}
  ops-wecom: {type: wecom, url: "https://.../webhook/send?key=..."}
  cx-slack: {type: slack, url: "https://.../services/T/B/X"}
  oncall-mail: {type: email, smtp_host: 127.0.0.1, smtp_port: 25, from: voc@example.com,
                to: [oncall@example.com]}
routes:                   # in order; the first route that matches wins ...
  - match: {department: [payment_ops], severity: [high, critical]}
    channels: [pay-lark, pay-ding]
    continue: true        # ... unless it says continue: true
  - match: {}             # every department and severity
    channels: [ops-hook]
```

`match` keys (each a value or a list; a missing key matches anything):
`department` (the episode's owner department), `severity` (low, medium,
high, critical), `kind` (the alert kind), `transition` (opened, updated,
resolved, acknowledged). Errors name the file, the place and what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CHANNEL_TYPES = ("webhook", "feishu", "dingtalk", "wecom", "slack", "email")
TRANSITIONS = ("opened", "updated", "resolved", "acknowledged")
SEVERITY_VALUES = ("low", "medium", "high", "critical")


class RoutingError(ValueError):
    """The routing file is not valid; the message lists every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Defaults(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    backoff_s: Annotated[float, Field(ge=0, le=3600)] = 1.0
    backoff_max_s: Annotated[float, Field(ge=0, le=86400)] = 30.0
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 5.0
    # None: the channel type's own default (the vendors' documented bot limits).
    rate_per_minute: Annotated[float, Field(gt=0)] | None = None


# Per-minute send limits per channel type when neither the channel nor the
# defaults set one: DingTalk and WeCom robots accept 20 messages a minute,
# Feishu bots 100, Slack incoming webhooks about one a second.
TYPE_RATE_PER_MINUTE = {
    "webhook": 600.0,
    "feishu": 100.0,
    "dingtalk": 20.0,
    "wecom": 20.0,
    "slack": 60.0,
    "email": 60.0,
}


class _HttpChannel(_Strict):
    url: str
    headers: dict[str, str] = {}
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] | None = None
    rate_per_minute: Annotated[float, Field(gt=0)] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https:// (got {v!r})")
        return v


class WebhookChannel(_HttpChannel):
    type: Literal["webhook"]


class FeishuChannel(_HttpChannel):
    type: Literal["feishu"]
    secret: str | None = None


class DingTalkChannel(_HttpChannel):
    type: Literal["dingtalk"]
    secret: str | None = None


class WeComChannel(_HttpChannel):
    type: Literal["wecom"]


class SlackChannel(_HttpChannel):
    type: Literal["slack"]


class EmailChannel(_Strict):
    type: Literal["email"]
    smtp_host: str
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: str = Field(alias="from")
    to: Annotated[list[str], Field(min_length=1)]
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None  # name of the environment variable holding the password
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] | None = None
    rate_per_minute: Annotated[float, Field(gt=0)] | None = None


Channel = Annotated[
    WebhookChannel | FeishuChannel | DingTalkChannel | WeComChannel | SlackChannel | EmailChannel,
    Field(discriminator="type"),
]


class Match(_Strict):
    department: str | list[str] | None = None
    severity: str | list[str] | None = None
    kind: str | list[str] | None = None
    transition: str | list[str] | None = None

    @field_validator("severity")
    @classmethod
    def _severities(cls, v: str | list[str] | None) -> str | list[str] | None:
        for s in [v] if isinstance(v, str) else v or []:
            if s not in SEVERITY_VALUES:
                raise ValueError(f"unknown severity {s!r} (one of {', '.join(SEVERITY_VALUES)})")
        return v

    @field_validator("transition")
    @classmethod
    def _transitions(cls, v: str | list[str] | None) -> str | list[str] | None:
        for s in [v] if isinstance(v, str) else v or []:
            if s not in TRANSITIONS:
                raise ValueError(f"unknown transition {s!r} (one of {', '.join(TRANSITIONS)})")
        return v

    def matches(self, facts: dict[str, str]) -> bool:
        for name in ("department", "severity", "kind", "transition"):
            want = getattr(self, name)
            if want is None:
                continue
            allowed = [want] if isinstance(want, str) else want
            if facts.get(name) not in allowed:
                return False
        return True


class Route(_Strict):
    match: Match = Match()
    channels: Annotated[list[str], Field(min_length=1)]
    continue_: bool = Field(False, alias="continue")


class Routing(_Strict):
    defaults: Defaults = Defaults()
    channels: Annotated[dict[str, Channel], Field(min_length=1)]
    routes: Annotated[list[Route], Field(min_length=1)]

    def channels_for(self, facts: dict[str, str]) -> list[str]:
        out: list[str] = []
        for route in self.routes:
            if route.match.matches(facts):
                out += [c for c in route.channels if c not in out]
                if not route.continue_:
                    break
        return out

    def setting(self, channel: str, name: str) -> Any:
        value = getattr(self.channels[channel], name, None)
        if value is None:
            value = getattr(self.defaults, name)
        if value is None and name == "rate_per_minute":
            value = TYPE_RATE_PER_MINUTE[self.channels[channel].type]
        return value


def parse_routing(
    doc: Any, source: str = "<routing>", departments: set[str] | None = None
) -> Routing:
    if not isinstance(doc, dict):
        raise RoutingError(f"{source}: expected a mapping with `channels` and `routes`")
    try:
        routing = Routing.model_validate(doc)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join(str(p) for p in err["loc"] if p not in CHANNEL_TYPES)
            problems.append(f"  {where or '(top)'}: {err['msg']}")
        raise RoutingError(f"{source}: invalid routing file\n" + "\n".join(problems)) from None
    problems = []
    for i, route in enumerate(routing.routes):
        for name in route.channels:
            if name not in routing.channels:
                problems.append(
                    f"  routes.{i}.channels: unknown channel {name!r}"
                    f" (defined: {', '.join(sorted(routing.channels))})"
                )
        want = route.match.department
        if departments is not None and want is not None:
            for d in [want] if isinstance(want, str) else want:
                if d not in departments:
                    problems.append(
                        f"  routes.{i}.match.department: {d!r} is not a catalog department"
                    )
    if problems:
        raise RoutingError(f"{source}: invalid routing file\n" + "\n".join(problems))
    return routing


def load_routing(path: Path | str, departments: set[str] | None = None) -> Routing:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RoutingError(f"{path}: no such routing file") from None
    except yaml.YAMLError as e:
        raise RoutingError(f"{path}: not valid YAML: {e}") from None
    return parse_routing(doc, str(path), departments)
