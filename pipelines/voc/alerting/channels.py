"""What each channel receives, in its own documented payload shape, and how
one delivery attempt is made.

Every HTTP channel gets the `Idempotency-Key` header; the key is also in the
body: as the field `idempotency_key` for the generic webhook, and for the chat
bots (whose payloads are fixed by their vendors) in the card/markdown text's
last line, `key: <idempotency key>`.

| type | payload |
|---|---|
| webhook  | `{"idempotency_key", "transition", "episode_id", "kind", "key", "owner_department", "severity", ..., "evidence", "link"}` |
| feishu   | Feishu/Lark custom bot: `{"msg_type": "interactive", "card": {"header": ..., "elements": [markdown, action button]}}`, signed (`timestamp`, `sign`) when a secret is set |
| dingtalk | DingTalk custom robot: `{"msgtype": "markdown", "markdown": {"title", "text"}}`, signed (`timestamp`, `sign` query) when a secret is set |
| wecom    | WeCom group robot: `{"msgtype": "markdown", "markdown": {"content"}}` |
| slack    | Slack incoming webhook: `{"text", "blocks": [header, section (mrkdwn), context]}` |
| email    | SMTP: subject + text and HTML parts; `Idempotency-Key` header and a Message-ID derived from the key |

A bot answers HTTP 200 with an error code in its body when it refuses a
message (bad signature, rate limited): `code`/`errcode`/`StatusCode` other
than 0, or Slack's body other than `ok`, is a failed attempt.
"""

# ruff: noqa: E501  (the payload table in the docstring)
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from voc.alerting.routing import EmailChannel

_SEV_ZH = {"low": "低", "medium": "中", "high": "高", "critical": "紧急"}
_TRANSITION_ZH = {"opened": "告警", "updated": "升级", "resolved": "恢复", "acknowledged": "已认领"}
_FEISHU_TEMPLATE = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue"}


class DeliveryError(Exception):
    """One attempt failed; `status_code` when the receiver answered."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True, slots=True)
class Attempt:
    status_code: int | None


def title(p: dict[str, Any]) -> str:
    ev = p.get("evidence") or {}
    name = f"{ev.get('scenario_name_zh', p.get('scenario_id'))} / {ev.get('scenario_name_en', '')}"
    return (
        f"[{_TRANSITION_ZH.get(p['transition'], p['transition'])} {p['transition']}]"
        f"[{_SEV_ZH.get(p['severity'], '')} {p['severity']}] {name.strip(' /')}"
    )


def markdown(p: dict[str, Any], key: str, *, bold: str = "**") -> str:
    """The evidence as markdown (bold marker differs: Slack's mrkdwn uses *)."""
    ev = p.get("evidence") or {}
    lines = [
        f"{bold}{p['kind']}{bold} · {p['domain']} / {p['journey_stage']} · `{p['scenario_id']}`",
        f"{bold}负责部门 Owner{bold}: {p['owner_department']}",
        f"{bold}峰值 Peak{bold}: {p.get('peak_count')} /h (expected {p.get('baseline_mean')}, "
        f"threshold {p.get('threshold')})",
        f"{bold}累计 Contacts so far{bold}: {p.get('contacts_so_far')} "
        f"(expected {p.get('expected_so_far')})",
        f"{bold}开始 Opened{bold}: {p.get('opened_at')}"
        + (f" · {bold}恢复 Resolved{bold}: {p['resolved_at']}" if p.get("resolved_at") else ""),
    ]
    orders = ev.get("affected_orders") or {}
    if orders.get("count"):
        lines.append(
            f"{bold}受影响订单 Orders{bold}: {orders['count']}"
            f" (e.g. {', '.join(orders['sample'][:3])})"
        )
    stages = ev.get("affected_stages") or {}
    if stages:
        lines.append(
            f"{bold}环节 Stages{bold}: "
            + ", ".join(f"{s} {n}" for s, n in list(stages.items())[:4])
        )
    for ex in (ev.get("examples") or [])[:3]:
        lines.append(f"> {ex['text'][:160]}")
    lines.append(f"[详情 Drill in]({p['link']})")
    lines.append(f"key: {key}")
    return "\n".join(lines)


def render(channel_type: str, p: dict[str, Any], key: str) -> dict[str, Any]:
    """The JSON body for an HTTP channel."""
    if channel_type == "webhook":
        return {"idempotency_key": key, **p}
    if channel_type == "feishu":
        return {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {
                    "title": {"tag": "plain_text", "content": title(p)},
                    "template": _FEISHU_TEMPLATE.get(p["severity"], "blue"),
                },
                "elements": [
                    {"tag": "markdown", "content": markdown(p, key)},
                    {
                        "tag": "action",
                        "actions": [
                            {
                                "tag": "button",
                                "text": {"tag": "plain_text", "content": "详情 Drill in"},
                                "type": "primary",
                                "url": p["link"],
                            }
                        ],
                    },
                ],
            },
        }
    if channel_type == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": title(p), "text": f"### {title(p)}\n\n" + markdown(p, key)},
        }
    if channel_type == "wecom":
        return {
            "msgtype": "markdown",
            "markdown": {"content": f"## {title(p)}\n" + markdown(p, key)},
        }
    if channel_type == "slack":
        return {
            "text": title(p),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": title(p)[:150]}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": markdown(p, key, bold="*")[:2900]},
                },
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"key: {key}"}]},
            ],
        }
    raise ValueError(f"no HTTP payload for channel type {channel_type!r}")


def _feishu_sign(secret: str, timestamp: int) -> str:
    # Feishu: HMAC-SHA256 keyed by "timestamp\nsecret" over an empty message.
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _refused(channel_type: str, response: httpx.Response) -> str | None:
    """A 2xx answer whose body says the bot refused the message."""
    if channel_type == "slack":
        body = response.text.strip()
        return None if body in ("ok", "") else f"slack answered {body[:200]!r}"
    if channel_type in ("feishu", "dingtalk", "wecom"):
        try:
            doc = response.json()
        except ValueError:
            return None
        for field in ("code", "errcode", "StatusCode"):
            if isinstance(doc, dict) and doc.get(field) not in (None, 0):
                return f"{channel_type} answered {field}={doc.get(field)}: {json.dumps(doc)[:200]}"
    return None


def send_http(
    client: httpx.Client, channel: Any, p: dict[str, Any], key: str, timeout_s: float
) -> Attempt:
    body = render(channel.type, p, key)
    url = channel.url
    secret = getattr(channel, "secret", None)
    if channel.type == "feishu" and secret:
        ts = int(time.time())
        body = {"timestamp": str(ts), "sign": _feishu_sign(secret, ts), **body}
    if channel.type == "dingtalk" and secret:
        ts_ms = int(time.time() * 1000)
        sep = "&" if "?" in url else "?"
        url += (
            f"{sep}timestamp={ts_ms}&sign={urllib.parse.quote_plus(_dingtalk_sign(secret, ts_ms))}"
        )
    headers = {
        **channel.headers,
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": key,
    }
    try:
        response = client.post(
            url,
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            timeout=timeout_s,
        )
    except httpx.TimeoutException as e:
        raise DeliveryError(f"timed out after {timeout_s} s ({type(e).__name__})") from None
    except httpx.HTTPError as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from None
    if not response.is_success:
        raise DeliveryError(
            f"HTTP {response.status_code}: {response.text[:200]}", response.status_code
        )
    refused = _refused(channel.type, response)
    if refused:
        raise DeliveryError(refused, response.status_code)
    return Attempt(response.status_code)


def send_email(channel: EmailChannel, p: dict[str, Any], key: str, timeout_s: float) -> Attempt:
    msg = EmailMessage()
    msg["Subject"] = title(p)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    msg["Idempotency-Key"] = key
    msg["Message-ID"] = f"<{key}@voc-loop>"
    msg.set_content(markdown(p, key))
    try:
        with smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout_s) as smtp:
            if channel.starttls:
                smtp.starttls()
            if channel.username:
                smtp.login(channel.username, os.environ.get(channel.password_env or "", ""))
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        raise DeliveryError(f"SMTP: {type(e).__name__}: {e}") from None
    return Attempt(250)
