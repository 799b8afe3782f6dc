"""Labels in Chinese and English. Names that live in the data (scenarios,
stages, departments) come from the catalog's name_zh / name_en columns."""

from __future__ import annotations

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "title": ("VOC 闭环看板", "VOC Loop dashboard"),
    "now": ("实时", "Now"),
    "root_causes": ("根因", "Root causes"),
    "sla": ("SLA", "SLA"),
    "satisfaction": ("满意度", "Satisfaction"),
    "issues": ("问题闭环", "Issues"),
    "start": ("开始日期", "From"),
    "end": ("结束日期", "To"),
    "domain": ("业务", "Business"),
    "department": ("部门", "Department"),
    "channel": ("渠道", "Channel"),
    "all": ("全部", "All"),
    "rejected": ("已忽略无效筛选值", "Ignored invalid filter values"),
    "snapshot": ("数据快照", "Snapshot"),
    "published": ("发布于", "published"),
    "age": ("快照延迟", "snapshot age"),
    "lag": ("管道延迟（最新事件距现在）", "pipeline lag (newest event vs now)"),
    "writer_active": (
        "写入进程运行中：读取其发布的快照",
        "a writer holds the warehouse: reading its snapshots",
    ),
    "events_stored": ("已入库事件", "Events stored"),
    "show_all": ("显示全部 {n} 条", "Show all {n}"),
    "marts_as_of": (
        "数据集市为该时刻的快照（实时数字更新）",
        "marts as of (live figures newer)",
    ),
    "refresh_every": ("每 {s} 秒刷新", "refreshes every {s} s"),
    "seconds": ("秒", "s"),
    "open_alerts": ("未关闭告警", "Open alerts"),
    "alerts_by_kind": ("按类型和严重度", "By kind and severity"),
    "recent_alerts": ("最近告警", "Latest alerts"),
    "no_open_alerts": ("当前没有未关闭的告警", "No open alerts"),
    "contacts_per_minute": (
        "每分钟联络量（按业务）与预期",
        "Contacts per minute by business vs expected",
    ),
    "expected": ("预期", "expected"),
    "dead_letter_rate": ("死信率", "Dead-letter rate"),
    "dead_letters": ("死信", "dead letters"),
    "newest_event": ("最新事件时间", "Newest event"),
    "kind": ("类型", "Kind"),
    "status": ("状态", "Status"),
    "unknown_alert": ("没有这个告警（快照中不存在）", "No such alert in this snapshot"),
    "orders": ("受影响订单", "affected orders"),
    "severity": ("严重度", "Severity"),
    "scenario": ("场景", "Scenario"),
    "stage": ("环节", "Stage"),
    "category": ("类别", "Category"),
    "owner": ("负责人", "Owner"),
    "evidence": ("证据", "Evidence"),
    "window": ("窗口", "Window"),
    "count": ("数量", "Count"),
    "baseline": ("基线", "Baseline"),
    "threshold": ("阈值", "Threshold"),
    "contacts": ("联络量", "Contacts"),
    "top_volume": ("联络量最多的场景", "Top scenarios by volume"),
    "top_growth": (
        "增长最快的场景（末日 / 之前日均）",
        "Fastest growing (last day / earlier daily mean)",
    ),
    "top_dissatisfied": ("不满意率最高的场景", "Most dissatisfied (rated < 4 / rated)"),
    "drill": (
        "下钻：业务 → 环节 → 类别 → 场景 → 联络",
        "Drill-down: business → stage → category → scenario → contacts",
    ),
    "drill_top": ("全部", "All"),
    "journey": ("旅程（最近事件）", "Journey (recent events)"),
    "text_masked": ("文本（已脱敏）", "Text (masked)"),
    "untagged_clusters": ("未归类联络聚类", "Untagged contact clusters"),
    "clustering": ("正在聚类…", "Clustering…"),
    "examples": ("示例", "Examples"),
    "size": ("数量", "Size"),
    "share": ("占比", "Share"),
    "dissatisfied": ("不满意", "Dissatisfied"),
    "growth": ("增长倍数", "Growth"),
    "attainment": ("SLA 达成率（按部门和层级）", "SLA attainment by department and tier"),
    "backlog": ("每日积压工单（按部门）", "Open backlog at end of day by department"),
    "escalations": ("升级路径", "Escalation paths"),
    "compensation": ("赔付时长 vs 2 小时目标", "Compensation time vs the 2 h target"),
    "escalations_note": (
        "每张工单经过的层级（按顺序），括号内为其创建时的解决 SLA 超时数",
        "Tiers each ticket went through, in order; in brackets, how many breached "
        "the resolution SLA set at creation",
    ),
    "claims": ("赔付申请", "Claims"),
    "claims_paid": ("已支付申请", "Paid claims"),
    "paid": ("已支付", "Paid"),
    "within_target": ("2 小时内支付", "Paid within 2 h"),
    "median_hours": ("支付时长中位数（小时）", "Median hours to pay"),
    "p90_hours": ("支付时长 P90（小时）", "P90 hours to pay"),
    "amount_cny": ("金额（元）", "Amount (CNY)"),
    "hours_to_pay": (
        "申请到支付（小时），虚线为 2 小时目标",
        "Hours from request to payment (dashed: 2 h target)",
    ),
    "nps_none": (
        "此仓库的数据集市没有 NPS（构建于 NPS 问题加入之前）：请运行 voc build 重建。",
        "This warehouse's marts have no NPS (built before the survey asked it): "
        "rebuild them with voc build.",
    ),
    "nps_note": (
        "NPS = 推荐者（9-10 分）占比 − 贬损者（0-6 分）占比，×100；来自通话后调查，共 {n} 份回答。",
        "NPS = 100 × (promoters 9-10 − detractors 0-6) / answers, from the post-call "
        "survey; {n} answers.",
    ),
    "clock": ("时钟", "Clock"),
    "clock_business": ("工作时间", "business hours"),
    "clock_calendar": (
        "日历时间（工作时间时钟尚未构建）",
        "calendar hours (no business-hours clock in this warehouse yet)",
    ),
    "tier": ("层级", "Tier"),
    "tickets": ("工单", "Tickets"),
    "breached": ("超时", "Breached"),
    "met": ("达成", "Met"),
    "path": ("路径", "Path"),
    "missing_mart": (
        "此仓库中没有 {mart}（尚未构建）",
        "{mart} is not in this warehouse (not built yet)",
    ),
    "call_csat": ("电话 CSAT", "Call CSAT"),
    "ticket_csat": ("工单 CSAT", "Ticket CSAT"),
    "nps": ("净推荐值 NPS", "NPS"),
    "fcr": ("一次解决率 FCR", "First-contact resolution"),
    "repeat_rate": ("重复来电率", "Repeat rate"),
    "grain": ("粒度", "Grain"),
    "day": ("日", "Day"),
    "week": ("周", "Week"),
    "by": ("分组", "By"),
    "issue_ledger": ("问题台账", "Issue ledger"),
    "overdue": ("已逾期", "Overdue"),
    "verified": ("已验证修复", "Verified fixed"),
    "contacts_avoided": ("每周减少联络", "Contacts avoided / week"),
    "issue_title": ("问题", "Issue"),
    "rate_ratio": ("修复后/前比率", "Rate after / before"),
    "fix_due": ("修复期限", "Fix due"),
    "weekly_report": ("周报", "Weekly report"),
    "no_report": ("尚无周报文件", "No weekly report file yet"),
    "period": ("周期", "Period"),
    "group": ("分组", "Group"),
    "filters_apply": ("筛选适用于：", "Filters used:"),
    "domain_only": ("仅业务筛选（实时数据）", "business only (live figures)"),
}

VALUES: dict[str, tuple[str, str]] = {
    "freight": ("货运", "Freight"),
    "express": ("快递", "Express"),
    "ecommerce": ("电商", "E-commerce"),
    "call": ("电话", "Call"),
    "ticket": ("工单", "Ticket"),
    "social": ("社交媒体", "Social"),
    "untagged": ("未归类", "Untagged"),
    # alert kinds (voc.detect.alerts.KINDS)
    "contact_spike": ("联络激增", "Contact spike"),
    "step_failure": ("环节失败激增", "Step failures"),
    "funnel_drop": ("转化下跌", "Funnel drop"),
    "stuck_journeys": ("旅程卡滞", "Stuck journeys"),
    "repeat_loop": ("重复联络", "Repeat contacts"),
    "emotion_escalation": ("情绪升级", "Emotional escalation"),
    "social_surge": ("舆情激增", "Social surge"),
    "high": ("高", "High"),
    "medium": ("中", "Medium"),
    "low": ("低", "Low"),
    "critical": ("严重", "Critical"),
    "unknown": ("未知", "Unknown"),
    "open": ("未关闭", "Open"),
    "acknowledged": ("已确认", "Acknowledged"),
    "resolved": ("已解决", "Resolved"),
    "fix_released": ("已发布修复", "Fix released"),
    "reopened": ("已重开", "Reopened"),
    "wont_fix": ("不修复", "Won't fix"),
}


def t(key: str, lang: str, **fmt) -> str:
    zh, en = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def v(value: str | None, lang: str) -> str:
    """A data value (domain, channel, kind, severity) in the page's language."""
    if value is None:
        return "—"
    pair = VALUES.get(value)
    if pair is None:
        return value
    return pair[0] if lang == "zh" else pair[1]


def name(row: dict, prefix: str, lang: str, fallback: str) -> str:
    """`<prefix>_zh` / `<prefix>_en` of a row, else the id."""
    return row.get(f"{prefix}_{lang}") or row.get(f"{prefix}_en") or row.get(fallback) or "—"
