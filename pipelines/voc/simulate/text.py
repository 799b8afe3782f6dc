"""Contact text written from the problem a contact is really about, in the
customer's words, without reading what the tagger matches on.

The generator knows a scenario only by its key (id, domain, stage, category,
`ScenarioKey`) and says the problem through its own phrasing model
(phrasing.yaml: colloquial forms of the parts of a scenario id, family and
stage lines). It never sees a scenario's catalog name, description, keywords or
examples, so a tagger scored on these texts is not scored against its own
strings (tests/simulate/test_simulate_honesty.py holds it to that, and measures
the verbatim overlap that is left by chance). Around the problem: openings,
asides, order details, impact, emotion, requests and closings; typos; now and
then a second, unrelated problem; call transcripts in which the agent never
names the problem.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PHRASING_FILE = Path(__file__).with_name("phrasing.yaml")

# Invented brands (never a real company) used where a customer names the business.
BRANDS: dict[str, tuple[str, str, str]] = {
    # domain -> (Chinese name, English name, social handle)
    "freight": ("运满通", "HaulLink", "HaulLink"),
    "express": ("迅达快递", "XunDa Express", "XunDaExpress"),
    "ecommerce": ("优品商城", "YouPin Mall", "YouPinMall"),
}
# How returning customers say so (the simulator's own model of people, not
# the detector's cues): a third say nothing about coming back, a third only
# that they did ("same thing as before"), a third how many times, and of those
# three in ten get the count wrong. A few first contacts mention having tried
# someone else first (the courier, the seller).
REPEAT_SILENT_SHARE = 0.3
REPEAT_VAGUE_SHARE = 0.35
REPEAT_COUNT_WRONG_SHARE = 0.3
TRIED_ELSEWHERE_SHARE = 0.03
_DEFAULT_BRAND = ("平台", "the platform", "ThePlatform")

EMOTIONS = ("calm", "anxious", "angry")


@dataclass(frozen=True, slots=True)
class ScenarioKey:
    """All the text generator may know of a scenario: where it sits, not how the
    catalog words it."""

    id: str
    domain: str
    stage: str
    category: str


@dataclass(frozen=True, slots=True)
class TextContext:
    """What a customer can mention: their business, order and mood."""

    domain: str  # the business the customer uses (freight / express / ecommerce / ...)
    language: str  # "zh" | "en"
    emotion: str  # calm | anxious | angry
    order_id: str | None
    is_repeat: bool = False
    times: int = 1  # which contact about the problem this is (a repeat: 2 or more)


# ---------------------------------------------------------------- Chinese banks

_ZH_OPEN_SPOKEN = (
    "喂，你好，",
    "你好，",
    "您好，我想咨询一下，",
    "喂？是客服吗？",
    "你好客服，",
    "我想反映个事情，",
    "打扰一下，",
    "麻烦问一下，",
    "",
    "",
    "我是你们的老用户了，",
    "喂，您好，我这边有个问题，",
    "你好，我姓{surname}，",
)
_ZH_OPEN_WRITTEN = (
    "你好，",
    "客服你好，",
    "在吗？",
    "您好，",
    "",
    "",
    "【反馈】",
    "反馈一个问题：",
    "急！",
    "麻烦看一下：",
    "{brand}客服你好，",
)
_ZH_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "胡")
_ZH_WHEN = (
    "今天上午",
    "昨天下午",
    "前天",
    "上周五",
    "刚才",
    "今天早上",
    "昨晚",
    "今天中午",
    "大前天",
    "这周一",
    "下午两点多",
    "早上八点左右",
)
_ZH_PLACES = (
    "浦东",
    "昆山",
    "嘉定",
    "苏州工业园",
    "宝安",
    "龙华",
    "东莞长安",
    "番禺",
    "天河",
    "余杭",
    "萧山",
    "义乌",
    "武清",
    "顺义",
    "成都双流",
    "郫都",
    "江宁",
    "青浦",
)
_ZH_CITIES = (
    "上海",
    "北京",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "厦门",
    "长沙",
)
_ZH_VEHICLES = ("面包车", "4.2米厢货", "6.8米高栏", "小货车", "9.6米平板", "中面")
_ZH_GOODS = (
    "一批建材",
    "几箱水果",
    "家具",
    "办公设备",
    "搬家的东西",
    "两吨钢材",
    "电商的货",
    "冷冻食品",
)
_ZH_PARCEL = (
    "一箱衣服",
    "文件",
    "一个手机",
    "土特产",
    "化妆品",
    "电脑配件",
    "给孩子的书",
    "一袋茶叶",
)
_ZH_PRODUCTS = (
    "冰箱",
    "洗衣机",
    "空调",
    "扫地机器人",
    "运动鞋",
    "羽绒服",
    "电视",
    "蓝牙耳机",
    "婴儿车",
    "书桌",
    "净水器",
    "笔记本电脑",
    "床垫",
    "油烟机",
)
_ZH_CONTEXT = {
    "freight": (
        "我{when}下的单，从{place}拉到{place2}，",
        "订单号{order}，叫的是{vehicle}，",
        "这单运费{amount}元，",
        "约的是{when}装货，",
        "我拉的是{goods}，",
        "{place}到{place2}这趟，",
    ),
    "express": (
        "单号{order}，从{city}寄到{city2}的，",
        "我{when}寄的件，",
        "寄的是{parcel}，",
        "运单号是{order}，",
        "{city}发往{city2}的件，",
        "寄件人是我，收件人在{city2}，",
    ),
    "ecommerce": (
        "我{when}买的{product}，",
        "订单号{order}，买的是{product}，",
        "花了{amount}块钱买的{product}，",
        "{when}下单的{product}，",
        "我在你们店里买了台{product}，",
    ),
}
_ZH_CONTEXT_ANY = (
    "订单号{order}，",
    "我{when}在App上操作的，",
    "手机是{phone}的，",
    "我{when}用的时候，",
)
_ZH_PHONES = ("iPhone", "华为", "小米", "OPPO", "vivo", "荣耀")

_ZH_IMPACT = (
    "我这边急着用，",
    "工人都在等着，",
    "客户一直在催我，",
    "已经耽误了大半天了，",
    "我等了一上午了，",
    "耽误我做生意了，",
    "东西是急用的，",
    "家里老人一直在等，",
    "我今天还要赶去上班，",
    "",
    "",
    "这都影响我下一单了，",
    "我请了半天假在家等，",
)
# A returning customer ({n}: the contact's number about the problem as they
# state it, {before}: how many they say came before it). How often they say so
# at all, and how often the count is right: REPEAT_* below.
_ZH_REPEAT_COUNTED = (
    "这是我第{n}次联系你们了，",
    "我前面已经反映过{before}次了，",
)
_ZH_REPEAT_VAGUE = (
    "上次说好给我回复的，到现在也没消息，",
    "还是上回那个事，",
    "这事拖了好几天了，",
    "我都不记得打了多少回了，",
)
# A first contact about the problem that mentions trying someone else first
# (the courier, the seller, the app): not a return to us.
_ZH_TRIED_ELSEWHERE = (
    "我已经跟司机说过了，",
    "之前问过商家，",
    "在App里催过了，",
    "快递员那边我也问过，",
)
_ZH_NUMBERS = "零一两三四五六七八九"
_ZH_ORDINALS = "零一二三四五六七八九"
_ZH_EMOTION = {
    "calm": (
        "麻烦帮我看一下。",
        "辛苦帮忙查查。",
        "想了解一下怎么处理。",
        "不着急，帮我确认下就行。",
        "",
    ),
    "anxious": ("我挺着急的，", "能不能快点？", "真的很急，", "拜托尽快，", "心里有点慌，"),
    "angry": (
        "你们到底怎么回事？！",
        "太离谱了！",
        "我要投诉！",
        "再这样我就不用你们了！",
        "这服务也太差了吧！",
        "气死我了，",
        "你们给个说法！",
    ),
}
_ZH_REQUEST = (
    "请尽快给我处理。",
    "能给我一个说法吗？",
    "麻烦给我回个电话。",
    "希望能给个补偿。",
    "帮我查一下进度。",
    "这个怎么处理？",
    "今天之内能弄好吗？",
    "请联系一下相关负责人。",
    "我需要一个明确的时间。",
    "",
)
_ZH_CLOSE = ("谢谢。", "谢谢啊。", "", "", "等你们回复。", "辛苦了。")

# --------------------------------------------------------------- English banks

_EN_OPEN_SPOKEN = (
    "Hi. ",
    "Hello. ",
    "Hi there. ",
    "Good morning. ",
    "Hello, yes. ",
    "Hey. ",
    "",
    "",
    "Hi, I need some help. ",
    "Hello, my name is {name_en}. ",
    "Hi, I'm calling about my order. ",
)
_EN_OPEN_WRITTEN = (
    "Hi! ",
    "Hello. ",
    "",
    "",
    "Dear support,\n",
    "To whom it may concern:\n",
    "Hi {brand_en} team! ",
    "URGENT: ",
    "Quick question: ",
)
_EN_NAMES = (
    "Li Wei",
    "Chen",
    "Sarah",
    "Tom",
    "Zhang Min",
    "Priya",
    "Kevin Wu",
    "Anna",
    "Mr. Liu",
    "Jenny",
)
_EN_WHEN = (
    "this morning",
    "yesterday afternoon",
    "two days ago",
    "last Friday",
    "just now",
    "earlier today",
    "last night",
    "around noon",
    "on Monday",
    "about an hour ago",
)
_EN_PLACES = (
    "Pudong",
    "Kunshan",
    "Jiading",
    "Suzhou Industrial Park",
    "Bao'an",
    "Dongguan",
    "Panyu",
    "Hangzhou Yuhang",
    "Yiwu",
    "Shunyi",
    "Chengdu",
    "Jiangning",
)
_EN_CITIES = (
    "Shanghai",
    "Beijing",
    "Guangzhou",
    "Shenzhen",
    "Hangzhou",
    "Chengdu",
    "Wuhan",
    "Nanjing",
    "Xiamen",
)
_EN_VEHICLES = ("a small van", "a 4.2m box truck", "a 6.8m flatbed", "a minivan", "a 9.6m truck")
_EN_GOODS = (
    "building materials",
    "some furniture",
    "office equipment",
    "boxes of fruit",
    "steel coils",
)
_EN_PARCEL = (
    "a box of clothes",
    "some documents",
    "a phone",
    "gifts for my family",
    "laptop parts",
    "tea",
)
_EN_PRODUCTS = (
    "fridge",
    "washing machine",
    "air conditioner",
    "robot vacuum",
    "pair of sneakers",
    "down jacket",
    "TV",
    "pair of earbuds",
    "stroller",
    "desk",
    "water purifier",
    "laptop",
    "mattress",
)
_EN_CONTEXT = {
    "freight": (
        "I booked {when}, {place} to {place2}. ",
        "Order {order}, I asked for {vehicle}. ",
        "The fare was {amount} yuan. ",
        "Loading was set for {when}. ",
        "I'm moving {goods}. ",
    ),
    "express": (
        "Tracking number {order}, sent from {city} to {city2}. ",
        "I shipped it {when}. ",
        "It's {parcel}. ",
        "Waybill {order}. ",
        "Shipment from {city} to {city2}. ",
    ),
    "ecommerce": (
        "I bought a {product} {when}. ",
        "Order {order}, a {product}. ",
        "I paid {amount} yuan for a {product}. ",
        "Ordered the {product} {when}. ",
    ),
}
_EN_CONTEXT_ANY = ("Order {order}. ", "This was {when} in the app. ", "I'm on {phone}. ")
_EN_PHONES = ("an iPhone", "Android", "a Huawei phone", "a Xiaomi")

_EN_IMPACT = (
    "I really need this today. ",
    "My workers are waiting. ",
    "My customer keeps chasing me. ",
    "I've lost half a day already. ",
    "I took the morning off for this. ",
    "",
    "",
    "It's holding up my next job. ",
    "My parents are waiting at home. ",
)
_EN_REPEAT_COUNTED = (
    "This is my {n} time contacting you. ",
    "I already reported this {before}. ",
)
_EN_REPEAT_VAGUE = (
    "You promised to call me back and never did. ",
    "It's the same thing as before. ",
    "This has been dragging on for days. ",
    "I've lost count of how many times I've called. ",
)
_EN_TRIED_ELSEWHERE = (
    "I already told the driver. ",
    "I asked the seller before. ",
    "I chased it in the app already. ",
    "The courier said he'd check. ",
)
_EN_ORDINALS = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_EN_TIMES = ("", "once", "twice", "three times", "four times", "five times", "six times")
_EN_EMOTION = {
    "calm": (
        "Could you take a look? ",
        "Please check when you can. ",
        "Just want to know the next step. ",
        "",
    ),
    "anxious": (
        "I'm quite worried. ",
        "Can you hurry? ",
        "This is urgent for me. ",
        "Please be quick. ",
    ),
    "angry": (
        "This is ridiculous! ",
        "What is going on with you guys?! ",
        "I want to file a complaint! ",
        "Worst service ever. ",
        "I'm furious. ",
        "Unacceptable! ",
    ),
}
_EN_REQUEST = (
    "Please sort it out ASAP. ",
    "I want an explanation. ",
    "Please call me back. ",
    "I expect compensation. ",
    "Can you check the status? ",
    "What are you going to do about it? ",
    "Can this be fixed today? ",
    "Please give me a clear timeline. ",
    "",
)
_EN_CLOSE = ("Thanks.", "Thank you.", "", "", "Waiting for your reply.", "Regards.")

# ------------------------------------------------------------- off-topic banks

OFF_TOPIC_ZH = (
    "你好，在吗？",
    "喂？喂？听得到吗？",
    "你们公司在招人吗？想问下怎么报名。",
    "请问你们周末上班吗？",
    "加我微信领红包，日赚三百，详情私聊。",
    "打错了，不好意思。",
    "师傅服务很好，点个赞！",
    "请问怎么开发票？",
    "你们总部在哪个城市？",
    "我就是想问问今天天气会不会影响出行。",
    "谢谢你们，上次的事情已经好了。",
    "有没有合作渠道？我们是做广告的。",
    "你好，我想了解一下会员有什么权益。",
    "测试一下，请忽略。",
)
OFF_TOPIC_EN = (
    "Hello, is anyone there?",
    "Hi, wrong number, sorry.",
    "Are you hiring drivers? How do I apply?",
    "Earn $500 a day from home!!! DM me now",
    "Just wanted to say your staff were great, thanks!",
    "What are your opening hours on public holidays?",
    "How do I get an invoice for my company?",
    "Do you have a partnership program for advertisers?",
    "test message please ignore",
    "Where is your head office?",
    "Can I change the language of the app to English?",
)


def off_topic_text(rng: random.Random, ctx: TextContext, *, spoken: bool) -> str:
    """A contact about no scenario: a greeting, an unrelated question, spam, praise."""
    zh = ctx.language == "zh"
    details = _details(rng, ctx)
    opens = (
        (_ZH_OPEN_SPOKEN if spoken else _ZH_OPEN_WRITTEN)
        if zh
        else (_EN_OPEN_SPOKEN if spoken else _EN_OPEN_WRITTEN)
    )
    parts = [rng.choice(opens).format_map(details) if rng.random() < 0.6 else ""]
    parts.append(rng.choice(OFF_TOPIC_ZH if zh else OFF_TOPIC_EN))
    if rng.random() < 0.35:
        parts.append(rng.choice(_ZH_CONTEXT_ANY if zh else _EN_CONTEXT_ANY).format_map(details))
    if rng.random() < 0.5:
        parts.append(rng.choice(_ZH_CLOSE if zh else _EN_CLOSE))
    joiner = "" if zh else " "
    return joiner.join(p.strip() for p in parts if p.strip())


def _brand(domain: str) -> tuple[str, str, str]:
    return BRANDS.get(domain, _DEFAULT_BRAND)


def _details(rng: random.Random, ctx: TextContext) -> dict[str, str]:
    """The concrete details of one text, drawn once so that a text never contradicts itself."""
    zh = ctx.language == "zh"
    place, place2 = rng.sample(_ZH_PLACES if zh else _EN_PLACES, 2)
    city, city2 = rng.sample(_ZH_CITIES if zh else _EN_CITIES, 2)
    return {
        "when": rng.choice(_ZH_WHEN if zh else _EN_WHEN),
        "place": place,
        "place2": place2,
        "city": city,
        "city2": city2,
        "vehicle": rng.choice(_ZH_VEHICLES if zh else _EN_VEHICLES),
        "goods": rng.choice(_ZH_GOODS if zh else _EN_GOODS),
        "parcel": rng.choice(_ZH_PARCEL if zh else _EN_PARCEL),
        "product": rng.choice(_ZH_PRODUCTS if zh else _EN_PRODUCTS),
        "phone": rng.choice(_ZH_PHONES if zh else _EN_PHONES),
        "amount": str(rng.choice((rng.randint(30, 999), rng.randint(1000, 6000)))),
        "order": _spoken_order(rng, ctx),
        "surname": rng.choice(_ZH_SURNAMES),
        "name_en": rng.choice(_EN_NAMES),
        "brand": _brand(ctx.domain)[0],
        "brand_en": _brand(ctx.domain)[1],
    }


def _spoken_order(rng: random.Random, ctx: TextContext) -> str:
    if not ctx.order_id:
        return (
            rng.choice(("忘了", "我找一下")) if ctx.language == "zh" else "(I don't have it handy)"
        )
    digits = re.sub(r"\D", "", ctx.order_id)
    roll = rng.random()
    if roll < 0.5:
        return ctx.order_id
    if roll < 0.8 and digits:
        return ("尾号" if ctx.language == "zh" else "ending ") + digits[-4:]
    return ctx.order_id.upper()


# ------------------------------------------------------------ phrasing model

TYPO_SHARE = 0.15  # texts with a slip of the keyboard
MIXED_TOPIC_SHARE = 0.1  # texts that also mention a second, unrelated problem
CATEGORY_LINE_SHARE = 0.5
STAGE_LINE_SHARE = 0.35
ASIDE_SHARE = 0.3


@dataclass(frozen=True)
class Phrasing:
    """The simulator's phrasing model (phrasing.yaml), per language."""

    words: dict[str, dict[str, tuple[str | None, ...]]]
    categories: dict[str, dict[str, tuple[str, ...]]]
    stages: dict[str, dict[str, tuple[str, ...]]]
    typos_zh: tuple[tuple[str, str], ...]
    asides: dict[str, tuple[str, ...]]


@cache
def phrasing() -> Phrasing:
    doc = yaml.safe_load(PHRASING_FILE.read_text(encoding="utf-8"))

    def by_lang(table: dict) -> dict:
        out = {k: {lang: tuple(v[lang]) for lang in ("zh", "en")} for k, v in table.items()}
        bad = [
            k
            for k, v in out.items()
            for forms in v.values()
            for f in forms
            if f is not None and not isinstance(f, str)
        ]
        if bad:
            raise ValueError(f"{PHRASING_FILE}: quote these entries' forms as strings: {bad}")
        return out

    return Phrasing(
        words=by_lang(doc["words"]),
        categories=by_lang(doc["categories"]),
        stages=by_lang(doc["stages"]),
        typos_zh=tuple((a, b) for a, b in doc["typos_zh"]),
        asides={"zh": tuple(doc["asides_zh"]), "en": tuple(doc["asides_en"])},
    )


def slug_words(key: ScenarioKey) -> list[str]:
    """The parts of a scenario id's last segment: `deposit_refund_slow` -> 3 words."""
    return [w for w in key.id.rsplit(".", 1)[-1].split("_") if w]


def problem_core(rng: random.Random, key: ScenarioKey, language: str) -> str:
    """What went wrong, in the customer's words: the slug's parts said in order,
    each in one of its colloquial forms; parts the model does not know are left
    unsaid (the customer is vaguer), never spelt out from the catalog."""
    model = phrasing()
    said = []
    for word in slug_words(key):
        forms = model.words.get(word)
        if forms is None:
            continue
        form = rng.choice(forms[language])
        if form:
            said.append(form)
    return ("" if language == "zh" else " ").join(said)


def _family_line(rng: random.Random, key: ScenarioKey, language: str) -> str:
    lines = phrasing().categories.get(key.category)
    return rng.choice(lines[language]) if lines else ""


def says_external(said: str, language: str) -> bool:
    """Whether `said` carries a line of the family about taking the problem
    outside (the regulator, the press): the customer threatened to."""
    lines = phrasing().categories.get("external", {}).get(language, ())
    return any(line and line in said for line in lines)


def _stage_line(rng: random.Random, key: ScenarioKey, language: str) -> str:
    lines = phrasing().stages.get(f"{key.domain}.{key.stage}")
    return rng.choice(lines[language]) if lines else ""


_ZH_PROBLEM_FRAMES = (
    "{core}。",
    "就是{core}，",
    "我这边{core}了，",
    "问题是{core}。",
    "{core}，怎么回事？",
    "说白了就是{core}。",
    "现在{core}，",
    "{core}啊！",
)
_EN_PROBLEM_FRAMES = (
    "{Core}. ",
    "Basically {core}. ",
    "So {core}?? ",
    "My issue: {core}. ",
    "{Core}, what's going on? ",
    "Long story short, {core}. ",
    "{Core}!! ",
)
_ZH_VAGUE = ("出了点问题，", "有个情况要说一下，", "遇到麻烦了，", "这事搞得很烦，")
_EN_VAGUE = (
    "Something went wrong. ",
    "I have a problem. ",
    "There's an issue with this. ",
    "It's a mess. ",
)
_ZH_ALSO = ("对了，还有个事，", "另外，", "还有，上次", "顺便说一下，")
_EN_ALSO = ("Oh, and also ", "Also, ", "And another thing, ", "Separately, ")


def _problem_sentence(rng: random.Random, key: ScenarioKey, language: str) -> str:
    zh = language == "zh"
    core = problem_core(rng, key, language)
    parts = []
    if rng.random() < STAGE_LINE_SHARE:
        stage = _stage_line(rng, key, language)
        if stage:
            parts.append(stage + ("，" if zh else ", "))
    if core:
        frame = rng.choice(_ZH_PROBLEM_FRAMES if zh else _EN_PROBLEM_FRAMES)
        parts.append(frame.replace("{Core}", core[:1].upper() + core[1:]).replace("{core}", core))
    family = _family_line(rng, key, language)
    if family and (not core or rng.random() < CATEGORY_LINE_SHARE):
        parts.append(family + ("，" if zh else ". "))
    if not core and not family:
        parts.append(rng.choice(_ZH_VAGUE if zh else _EN_VAGUE))
    return "".join(parts)


def _typo(rng: random.Random, text: str, language: str) -> str:
    if language == "zh":
        pairs = [(a, b) for a, b in phrasing().typos_zh if a in text]
        if not pairs:
            return text
        a, b = rng.choice(pairs)
        return text.replace(a, b, 1)
    words = [i for i, w in enumerate(text.split(" ")) if len(w) > 4 and w.isalpha()]
    if not words:
        return text
    tokens = text.split(" ")
    i = rng.choice(words)
    w = tokens[i]
    j = rng.randrange(1, len(w) - 1)
    tokens[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return " ".join(tokens)


def _repeat_line(rng: random.Random, zh: bool, times: int) -> str:
    """A returning customer's words, or none: many just restate the problem; a
    vague line says they came back; a stated count is often wrong (most who
    are wrong say more times than it was, some fewer)."""
    r = rng.random()
    if r < REPEAT_SILENT_SHARE:
        return ""
    if r < REPEAT_SILENT_SHARE + REPEAT_VAGUE_SHARE:
        return rng.choice(_ZH_REPEAT_VAGUE if zh else _EN_REPEAT_VAGUE)
    n = times
    if rng.random() < REPEAT_COUNT_WRONG_SHARE:
        n = times + rng.choice((1, 1, 2)) if rng.random() < 0.75 else times - 1
    n = max(2, min(n, 7))
    line = rng.choice(_ZH_REPEAT_COUNTED if zh else _EN_REPEAT_COUNTED)
    if zh:
        return line.format(n=_ZH_ORDINALS[n], before=_ZH_NUMBERS[n - 1])
    return line.format(n=_EN_ORDINALS[n], before=_EN_TIMES[n - 1])


def customer_text(
    rng: random.Random,
    key: ScenarioKey | None,
    ctx: TextContext,
    *,
    spoken: bool,
    short: bool = False,
    also: ScenarioKey | None = None,
) -> str:
    """What the customer says (spoken) or writes about `key`'s problem (None:
    off-topic); `also` is a second problem some customers bring up as well."""
    if key is None:
        return off_topic_text(rng, ctx, spoken=spoken)
    zh = ctx.language == "zh"
    details = _details(rng, ctx)
    parts: list[str] = []
    if not short:
        opens = (
            (_ZH_OPEN_SPOKEN if spoken else _ZH_OPEN_WRITTEN)
            if zh
            else (_EN_OPEN_SPOKEN if spoken else _EN_OPEN_WRITTEN)
        )
        parts.append(rng.choice(opens).format_map(details))
        if rng.random() < (ASIDE_SHARE if spoken else ASIDE_SHARE / 2):
            parts.append(rng.choice(phrasing().asides[ctx.language]))
    if ctx.is_repeat:
        parts.append(_repeat_line(rng, zh, ctx.times))
    elif rng.random() < TRIED_ELSEWHERE_SHARE:
        parts.append(rng.choice(_ZH_TRIED_ELSEWHERE if zh else _EN_TRIED_ELSEWHERE))
    context_bank = (_ZH_CONTEXT if zh else _EN_CONTEXT).get(ctx.domain, ())
    any_bank = _ZH_CONTEXT_ANY if zh else _EN_CONTEXT_ANY
    n_context = rng.choice((0, 1, 1, 2)) if not short else rng.choice((0, 0, 1))
    bank = context_bank if context_bank and rng.random() < 0.75 else any_bank
    for template in rng.sample(bank, min(n_context, len(bank))):
        parts.append(template.format_map(details))
    problem = _problem_sentence(rng, key, ctx.language)
    # Sometimes the problem leads, the context follows.
    if parts and rng.random() < 0.2:
        parts.insert(0 if short else 1, problem)
    else:
        parts.append(problem)
    if also is not None and also.id != key.id:
        other = problem_core(rng, also, ctx.language)
        if other:
            parts.append(rng.choice(_ZH_ALSO if zh else _EN_ALSO) + other + ("。" if zh else ". "))
    if rng.random() < (0.35 if short else 0.55):
        parts.append(rng.choice(_ZH_IMPACT if zh else _EN_IMPACT))
    parts.append(rng.choice((_ZH_EMOTION if zh else _EN_EMOTION)[ctx.emotion]))
    if rng.random() < (0.4 if short else 0.75):
        parts.append(rng.choice(_ZH_REQUEST if zh else _EN_REQUEST))
    if not short and rng.random() < 0.5:
        parts.append(rng.choice(_ZH_CLOSE if zh else _EN_CLOSE))
    text = "".join(parts).strip()
    text = re.sub(r"[，,]\s*$", "。", text) if zh else re.sub(r"\s+", " ", text)
    if rng.random() < TYPO_SHARE:
        text = _typo(rng, text, ctx.language)
    return text.strip() or rng.choice(_ZH_VAGUE if zh else _EN_VAGUE).strip()


# ------------------------------------------------------------- call transcript

_ZH_AGENT_GREET = (
    "您好，{brand}客服，请问有什么可以帮您？",
    "您好，很高兴为您服务，请讲。",
    "您好，工号{agent}为您服务。",
)
_ZH_AGENT_ACK = (
    "好的，我帮您查一下。",
    "非常抱歉给您带来不便，请稍等。",
    "明白了，您别着急，我看一下。",
    "我理解您的心情，马上帮您核实。",
    "请您提供一下订单号。",
    "好的，我看到您的订单了。",
)
_ZH_AGENT_RESOLVED = (
    "已经帮您处理好了，还有其他问题吗？",
    "我这边已经操作好了，您刷新一下看看。",
    "问题已经解决，感谢您的耐心。",
)
_ZH_AGENT_TICKET = (
    "我这边给您登记一个工单，相关部门会在{sla}小时内联系您。",
    "这个需要转给专门的同事跟进，我已经提交了，请保持电话畅通。",
    "已为您加急处理，稍后会有专人回电。",
)
_ZH_AGENT_OPEN = (
    "这个情况我记录下来了，建议您稍后再留意一下。",
    "目前系统显示正在处理中，请您再耐心等一等。",
)
_ZH_CUSTOMER_MID = {
    "calm": ("嗯，好的。", "对，是的。", "好。", "嗯嗯。"),
    "anxious": ("对对，麻烦快一点。", "是的，我在等。", "嗯，你们赶紧看看。"),
    "angry": ("你快点查！", "对！就是这个！", "别让我一直等！"),
}
_ZH_CUSTOMER_END = {
    "calm": ("好的，谢谢。", "行，麻烦了。", "好，那我等消息。"),
    "anxious": ("那你们快一点啊。", "好吧，尽快啊。", "一定要尽快。"),
    "angry": ("每次都这么说！", "我不想再等了！", "再没结果我就去别的平台投诉！"),
}
_EN_AGENT_GREET = (
    "Thank you for calling {brand_en}, how can I help?",
    "Hello, this is customer service, how may I help you?",
    "Hi, you're speaking with agent {agent}.",
)
_EN_AGENT_ACK = (
    "Sure, let me check that for you.",
    "I'm sorry about that, one moment please.",
    "I see. Let me pull that up.",
    "I understand, let me look into it.",
    "Could you give me the order number?",
    "Okay, I can see your order here.",
)
_EN_AGENT_RESOLVED = (
    "That's fixed for you now. Anything else?",
    "Done, please refresh the app.",
    "All sorted, thanks for your patience.",
)
_EN_AGENT_TICKET = (
    "I've logged a ticket; the team will contact you within {sla} hours.",
    "I need to pass this to a specialist team. I've submitted it, please keep your phone on.",
    "I've marked this as urgent; someone will call you back shortly.",
)
_EN_AGENT_OPEN = (
    "I've noted this down; please check again later.",
    "It's still being processed, please bear with us.",
)
_EN_CUSTOMER_MID = {
    "calm": ("Sure.", "Yes, that's right.", "Okay.", "Mm-hm."),
    "anxious": ("Yes, please hurry.", "Right, I'm waiting.", "Yes. Please check quickly."),
    "angry": ("Just check it!", "Yes! Exactly that!", "Don't keep me waiting!"),
}
_EN_CUSTOMER_END = {
    "calm": ("Okay, thanks.", "Alright, thank you.", "Fine, I'll wait."),
    "anxious": ("Please be quick.", "Okay, but hurry please.", "Please don't forget."),
    "angry": (
        "You always say that!",
        "I'm not waiting any longer!",
        "I'll complain somewhere else then!",
    ),
}


_ZH_AGENT_PROBE = (
    "您慢慢说，具体是什么情况？",
    "好的，您能具体说一下遇到什么问题了吗？",
    "嗯，然后呢？",
    "您说的是哪一单？出了什么事？",
)
_EN_AGENT_PROBE = (
    "Take your time. What exactly happened?",
    "Okay, can you tell me what the problem is?",
    "Mm-hm, and then?",
    "Which order is this, and what went wrong?",
)
RAMBLING_SHARE = 0.4  # calls where the customer talks around the problem first


def transcript(
    rng: random.Random,
    key: ScenarioKey | None,
    ctx: TextContext,
    customer_says: str,
    *,
    agent_id: str | None,
    outcome: str,
    sla_hours: float | None,
) -> str:
    """A speaker-labelled call transcript; outcome is resolved | ticket | open.

    The agent greets, probes, acknowledges and closes, and never says what the
    problem is called: what the call is about is in the customer's turns only.
    In a rambling call the customer first talks around it (asides, order
    details), the agent probes, and the problem comes out after."""
    zh = ctx.language == "zh"
    agent, customer = ("客服：", "客户：") if zh else ("Agent: ", "Customer: ")
    values = {
        "brand": _brand(ctx.domain)[0],
        "brand_en": _brand(ctx.domain)[1],
        "agent": re.sub(r"\D", "", agent_id or "") or "001",
        "sla": f"{sla_hours:g}" if sla_hours else "24",
    }
    lines = [agent + rng.choice(_ZH_AGENT_GREET if zh else _EN_AGENT_GREET).format_map(values)]
    if key is not None and rng.random() < RAMBLING_SHARE:
        details = _details(rng, ctx)
        context_bank = (_ZH_CONTEXT if zh else _EN_CONTEXT).get(ctx.domain) or (
            _ZH_CONTEXT_ANY if zh else _EN_CONTEXT_ANY
        )
        first = rng.choice(phrasing().asides[ctx.language]) + rng.choice(context_bank).format_map(
            details
        )
        lines.append(customer + first.strip())
        lines.append(agent + rng.choice(_ZH_AGENT_PROBE if zh else _EN_AGENT_PROBE))
    lines.append(customer + customer_says)
    if key is None:
        lines.append(
            agent
            + ("好的，还有其他可以帮您的吗？" if zh else "Alright, anything else I can help with?")
        )
        return "\n".join(lines)
    lines.append(agent + rng.choice(_ZH_AGENT_ACK if zh else _EN_AGENT_ACK).format_map(values))
    lines.append(customer + rng.choice((_ZH_CUSTOMER_MID if zh else _EN_CUSTOMER_MID)[ctx.emotion]))
    closing = {
        "resolved": _ZH_AGENT_RESOLVED if zh else _EN_AGENT_RESOLVED,
        "ticket": _ZH_AGENT_TICKET if zh else _EN_AGENT_TICKET,
        "open": _ZH_AGENT_OPEN if zh else _EN_AGENT_OPEN,
    }[outcome]
    lines.append(agent + rng.choice(closing).format_map(values))
    lines.append(customer + rng.choice((_ZH_CUSTOMER_END if zh else _EN_CUSTOMER_END)[ctx.emotion]))
    return "\n".join(lines)


_ZH_SUMMARY = (
    "【来电工单】客户来电反映：{said}客户情绪：{emotion}。需相关部门跟进。",
    "来电记录：{said}",
    "客户致电，{said}已告知会有专人联系。",
    "电话转工单。问题描述：{said}",
)
_EN_SUMMARY = (
    "[Call ticket] Customer reports: {said} Mood: {emotion}. Needs follow-up by {dept}.",
    "Call notes: {said}",
    "Caller says: {said} Promised a callback from {dept}.",
    "Ticket from call. Description: {said}",
)
_ZH_EMOTION_WORD = {"calm": "平稳", "anxious": "焦虑", "angry": "愤怒"}


def call_summary(rng: random.Random, ctx: TextContext, customer_says: str, department: str) -> str:
    """The text of a ticket an agent opened from a call: a summary, not the transcript."""
    if ctx.language == "zh":
        said = customer_says if customer_says.endswith(("。", "！", "？")) else customer_says + "。"
        return rng.choice(_ZH_SUMMARY).format(said=said, emotion=_ZH_EMOTION_WORD[ctx.emotion])
    said = customer_says if customer_says.endswith((".", "!", "?")) else customer_says + "."
    return rng.choice(_EN_SUMMARY).format(said=said, emotion=ctx.emotion, dept=department)


_ZH_CARE = (
    "【社媒工单】用户公开发帖：{post}",
    "舆情转工单。原帖：{post}",
    "社媒监测到用户发帖：{post}已私信联系用户。",
)
_EN_CARE = (
    "[Social ticket] Public post: {post}",
    "From social listening. Post: {post}",
    "Customer posted publicly: {post} We reached out by DM.",
)


def social_care_note(
    rng: random.Random,
    ctx: TextContext,
    post: str,
    order_id: str | None = None,
    phone: str | None = None,
) -> str:
    """The text of a ticket the social team opened from a public post: the post,
    and what the author gave in a private message when asked who they are (an
    order number or a phone number; neither: the team knew the author already)."""
    zh = ctx.language == "zh"
    end = ("。", "！", "？", "!", "?") if zh else (".", "!", "?")
    post = post if post.endswith(end) else post + ("。" if zh else ".")
    text = rng.choice(_ZH_CARE if zh else _EN_CARE).format(post=post)
    if order_id:
        return text + (
            f"用户私信提供订单号{order_id}。" if zh else f" In a DM they gave order {order_id}."
        )
    if phone:
        return text + (f"用户私信留了手机号{phone}。" if zh else f" They DM'd their phone {phone}.")
    return text


_ZH_SOCIAL_TAIL = (
    "#避雷#",
    "#吐槽#",
    "",
    "",
    "大家评评理",
    "真的服了",
    "有没有人遇到过一样的？",
    "🙃",
    "😡",
)
_EN_SOCIAL_TAIL = ("#fail", "#customerservice", "", "", "Anyone else?", "smh", "Never again.", "🙃")


def social_text(
    rng: random.Random,
    key: ScenarioKey | None,
    ctx: TextContext,
    *,
    also: ScenarioKey | None = None,
) -> str:
    """A public post: short, addressed to the brand, often with a hashtag."""
    brand_zh, _brand_en, handle = _brand(ctx.domain)
    if key is None:
        body = off_topic_text(rng, ctx, spoken=False)
    else:
        body = customer_text(rng, key, ctx, spoken=False, short=True, also=also)
    if ctx.language == "zh":
        head = rng.choice((f"@{brand_zh} ", f"#{brand_zh}# ", f"用了{brand_zh}，", ""))
        return (head + body + " " + rng.choice(_ZH_SOCIAL_TAIL)).strip()
    head = rng.choice((f"@{handle} ", f"Hey @{handle}, ", ""))
    return (head + body + " " + rng.choice(_EN_SOCIAL_TAIL)).strip()
