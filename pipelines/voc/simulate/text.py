"""Contact text written from the scenario a contact is really about.

Nothing here is a per-scenario template: a text is assembled from the catalog's
generic fields (name, description, keywords of the scenario, the stage's name)
and from banks of openings, context details, problem frames, impact, emotion,
requests and closings. So the same code works for the 34 starter scenarios and
for a catalog of ~1,400.

About half the texts are told to avoid the scenario's keywords: they describe
the problem from its description or name, lightly paraphrased with synonyms,
and are re-drawn until no keyword of the scenario appears verbatim. Keyword
matching alone then cannot tag the data set, which is the point.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from voc.catalog import Scenario

# Invented brands (never a real company) used where a customer names the business.
BRANDS: dict[str, tuple[str, str, str]] = {
    # domain -> (Chinese name, English name, social handle)
    "freight": ("运满通", "HaulLink", "HaulLink"),
    "express": ("迅达快递", "XunDa Express", "XunDaExpress"),
    "ecommerce": ("优品商城", "YouPin Mall", "YouPinMall"),
}
_DEFAULT_BRAND = ("平台", "the platform", "ThePlatform")

EMOTIONS = ("calm", "anxious", "angry")


@dataclass(frozen=True, slots=True)
class TextContext:
    """What a customer can mention: their business, order and where they are."""

    domain: str  # the business the customer uses (freight / express / ecommerce / ...)
    language: str  # "zh" | "en"
    emotion: str  # calm | anxious | angry
    order_id: str | None
    stage_name: str | None  # the scenario's stage name in the text's language
    is_repeat: bool = False


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

# frames for a noun-like core (a scenario name)
_ZH_NOUN_FRAMES = (
    "遇到{core}的情况了。",
    "我要反映一个{core}的问题。",
    "碰上{core}这种事，",
    "关于{core}，我想问问怎么处理。",
    "我这单属于{core}吧？",
    "又是{core}，",
    "这算不算{core}？",
    "{core}这个事情谁来管？",
)
# frames for a clause-like core (a description, a keyword)
_ZH_CLAUSE_FRAMES = (
    "{core}。",
    "就是{core}。",
    "情况是这样的，{core}。",
    "现在的问题是{core}，",
    "说白了就是{core}。",
    "{core}，",
    "简单说，{core}。",
    "事情是{core}，",
    "{core}啊！",
)
# frames for a keyword, which may be a noun or a clause
_ZH_KEYWORD_FRAMES = (
    "{core}。",
    "就是{core}。",
    "问题：{core}。",
    "{core}啊！",
    "说白了就是{core}。",
    "又是{core}，",
    "关于{core}，",
    "我这边{core}，",
)
_ZH_STAGE = ("在{stage}这一步出了问题，", "{stage}环节，", "卡在{stage}这里了，", "{stage}的时候，")
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
_ZH_REPEAT = (
    "这是我第二次联系你们了，",
    "上次说好给我回复的，到现在也没消息，",
    "我前面已经反映过一次了，",
)
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
_ZH_SYNONYMS = (
    ("司机", ("师傅", "司机师傅")),
    ("订单", ("单子", "这一单")),
    ("长时间", ("好久", "半天")),
    ("货物", ("货",)),
    ("未按", ("没按",)),
    ("无人", ("一直没人",)),
    ("快递", ("包裹", "件")),
    ("取消", ("撤单",)),
    ("到达", ("到",)),
    ("商品", ("东西",)),
    ("支付", ("付款",)),
    ("货主", ("发货的老板",)),
    ("订金", ("预付的钱", "押的钱")),
    ("要求", ("非要",)),
    ("迟迟", ("一直",)),
    ("退款", ("退的钱",)),
    ("费用", ("钱",)),
    ("用户", ("我",)),
    ("收件", ("收货",)),
    ("约定", ("说好",)),
    ("发布", ("发",)),
    ("导致", ("搞得",)),
    ("闪退", ("自己退出", "一下就退出去")),
    ("卡死", ("卡住不动",)),
    ("打开即", ("一打开就",)),
    ("扣款两次", ("扣了两遍钱",)),
    ("重复扣款", ("钱被扣了两遍",)),
    ("被扣", ("被扣掉",)),
    ("登录", ("登陆",)),
    ("验证码", ("短信码",)),
    ("丢失", ("不见了",)),
)

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

_EN_NOUN_FRAMES = (
    "I need help with a {core} issue. ",
    "This is about: {core}. ",
    "Reporting a problem — {core}. ",
    "I think this counts as {core}? ",
    "It's a case of {core}, again. ",
    "Who handles {core}? ",
    "Another {core} problem. ",
)
_EN_CLAUSE_FRAMES = (
    "{Core}. ",
    "Basically, {core}. ",
    "Here's what happened: {core}. ",
    "Long story short: {core}. ",
    "So {core}. ",
    "The problem is that {core}. ",
    "{Core}!! ",
)
_EN_KEYWORD_FRAMES = (
    "{Core}. ",
    "Issue: {core}. ",
    "It's about: {core}. ",
    "Topic: {core}. ",
    "{Core}!! ",
    "Again, {core}. ",
    "Re {core}. ",
)
_EN_STAGE = (
    "It went wrong at the {stage} step. ",
    "This is during {stage}. ",
    "Stuck at {stage}. ",
    "",
)
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
_EN_REPEAT = (
    "This is my second time contacting you. ",
    "You promised to call me back and never did. ",
    "I already reported this once. ",
)
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
_EN_SYNONYMS = (
    ("The order", ("My order", "My booking")),
    ("the order", ("my order", "my booking")),
    ("The driver", ("My driver", "The trucker")),
    ("the driver", ("my driver", "the trucker")),
    ("The parcel", ("My package",)),
    ("the parcel", ("my package",)),
    ("refund", ("money back",)),
    ("a long time", ("ages", "hours")),
    ("The cargo", ("My load",)),
    ("the cargo", ("my load",)),
    ("cancels", ("calls it off",)),
    ("demands", ("insists on",)),
    ("agreed", ("promised",)),
    ("The customer", ("I, the customer,",)),
    ("after posting", ("after I posted it",)),
    ("withheld", ("kept back",)),
    ("The item", ("My item",)),
    ("does not", ("doesn't",)),
    ("charged twice", ("billed two times over", "charged a second time")),
    ("Charged twice", ("Double billing",)),
    ("crashes", ("shuts down on its own", "quits by itself")),
    ("freezes", ("hangs",)),
    ("log in", ("sign in",)),
    ("lost", ("gone missing",)),
    ("delayed", ("held up",)),
)

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


def _paraphrase(rng: random.Random, text: str, language: str) -> str:
    table = _ZH_SYNONYMS if language == "zh" else _EN_SYNONYMS
    for word, options in table:
        if word in text and rng.random() < 0.7:
            text = text.replace(word, rng.choice(options))
    return text


def _strip_end(text: str) -> str:
    return text.rstrip("。.!！?？;；, ，")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _clauses(text: str) -> list[str]:
    parts = [p for p in re.split(r"[，,；;。.]\s*", text) if p.strip()]
    return parts or [text]


def _problem(
    rng: random.Random,
    scenario: Scenario,
    ctx: TextContext,
    use_keyword: bool,
    exclude: tuple[str, ...] = (),
) -> tuple[str, str, str]:
    """One sentence saying what went wrong, built from the scenario's catalog fields.

    Returns (sentence, source, core); `source` is keyword | desc | clause | name
    and `exclude` keeps a second sentence from repeating the first one's source.
    """
    zh = ctx.language == "zh"
    keywords = scenario.keywords_zh if zh else scenario.keywords_en
    name = scenario.name_zh if zh else scenario.name_en
    desc = _strip_end(scenario.description_zh if zh else scenario.description_en)
    clauses = _clauses(desc)
    if use_keyword and keywords:
        source = "keyword"
    else:
        sources = [("desc", 0.45), ("clause", 0.2 if len(clauses) > 1 else 0.0), ("name", 0.35)]
        sources = [(x, w) for x, w in sources if x not in exclude and w > 0] or [("name", 1.0)]
        source = rng.choices([x for x, _ in sources], weights=[w for _, w in sources])[0]
    if source == "keyword":
        core = rng.choice(keywords)
    elif source == "desc":
        core = _paraphrase(rng, desc, ctx.language)
    elif source == "clause":
        core = _paraphrase(rng, rng.choice(clauses), ctx.language)
    else:
        core = _paraphrase(rng, name, ctx.language)
    if not zh:
        core = _lower_first(core)
    kind = {"keyword": "keyword", "name": "noun"}.get(source, "clause")
    frames = {
        "keyword": _ZH_KEYWORD_FRAMES if zh else _EN_KEYWORD_FRAMES,
        "noun": _ZH_NOUN_FRAMES if zh else _EN_NOUN_FRAMES,
        "clause": _ZH_CLAUSE_FRAMES if zh else _EN_CLAUSE_FRAMES,
    }[kind]
    frame = rng.choice(frames)
    sentence = frame.replace("{Core}", core[:1].upper() + core[1:]).replace("{core}", core)
    return sentence, source, core


def _contains_keyword(text: str, scenario: Scenario) -> bool:
    low = text.lower()
    return any(k and k.lower() in low for k in (*scenario.keywords_zh, *scenario.keywords_en))


def customer_text(
    rng: random.Random,
    scenario: Scenario | None,
    ctx: TextContext,
    *,
    spoken: bool,
    avoid_keywords: bool,
    short: bool = False,
) -> str:
    """What the customer says (spoken) or writes about `scenario` (None: off-topic)."""
    if scenario is None:
        return off_topic_text(rng, ctx, spoken=spoken)
    text = ""
    for _attempt in range(8):
        text = _compose(
            rng, scenario, ctx, spoken=spoken, use_keyword=not avoid_keywords, short=short
        )
        if not avoid_keywords or not _contains_keyword(text, scenario):
            break
    return text


def _compose(
    rng: random.Random,
    scenario: Scenario,
    ctx: TextContext,
    *,
    spoken: bool,
    use_keyword: bool,
    short: bool,
) -> str:
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
    if ctx.is_repeat:
        parts.append(rng.choice(_ZH_REPEAT if zh else _EN_REPEAT))
    context_bank = (_ZH_CONTEXT if zh else _EN_CONTEXT).get(ctx.domain, ())
    any_bank = _ZH_CONTEXT_ANY if zh else _EN_CONTEXT_ANY
    n_context = rng.choice((0, 1, 1, 2)) if not short else rng.choice((0, 0, 1))
    bank = context_bank if context_bank and rng.random() < 0.75 else any_bank
    for template in rng.sample(bank, min(n_context, len(bank))):
        parts.append(template.format_map(details))
    if ctx.stage_name and rng.random() < 0.25:
        parts.append(rng.choice(_ZH_STAGE if zh else _EN_STAGE).format(stage=ctx.stage_name))
    problem, source, core = _problem(rng, scenario, ctx, use_keyword)
    # Sometimes the problem leads, the context follows.
    if parts and rng.random() < 0.2:
        parts.insert(0 if short else 1, problem)
    else:
        parts.append(problem)
    if rng.random() < 0.3 and not use_keyword and scenario.keywords_zh and not short:
        # a second, differently worded sentence about the same problem
        second, _, second_core = _problem(rng, scenario, ctx, False, exclude=(source,))
        if second_core not in core and core not in second_core:
            parts.append(second)
    if rng.random() < (0.35 if short else 0.55):
        parts.append(rng.choice(_ZH_IMPACT if zh else _EN_IMPACT))
    parts.append(rng.choice((_ZH_EMOTION if zh else _EN_EMOTION)[ctx.emotion]))
    if rng.random() < (0.4 if short else 0.75):
        parts.append(rng.choice(_ZH_REQUEST if zh else _EN_REQUEST))
    if not short and rng.random() < 0.5:
        parts.append(rng.choice(_ZH_CLOSE if zh else _EN_CLOSE))
    text = "".join(parts).strip()
    text = re.sub(r"[，,]\s*$", "。" if zh else ".", text) if zh else re.sub(r"\s+", " ", text)
    return text.strip() or (scenario.name_zh if zh else scenario.name_en)


# ------------------------------------------------------------- call transcript

_ZH_AGENT_GREET = (
    "您好，{brand}客服，请问有什么可以帮您？",
    "您好，很高兴为您服务，请讲。",
    "您好，工号{agent}为您服务。",
)
_ZH_AGENT_ACK = (
    "好的，我帮您查一下。",
    "非常抱歉给您带来不便，请稍等。",
    "明白，您说的是{name}的情况对吧？",
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
    "I see, so this is about {name}, right?",
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


def transcript(
    rng: random.Random,
    scenario: Scenario | None,
    ctx: TextContext,
    customer_says: str,
    *,
    agent_id: str | None,
    outcome: str,
    sla_hours: float | None,
) -> str:
    """A speaker-labelled call transcript; outcome is resolved | ticket | open."""
    zh = ctx.language == "zh"
    agent, customer = ("客服：", "客户：") if zh else ("Agent: ", "Customer: ")
    values = {
        "brand": _brand(ctx.domain)[0],
        "brand_en": _brand(ctx.domain)[1],
        "agent": re.sub(r"\D", "", agent_id or "") or "001",
        "name": (scenario.name_zh if zh else scenario.name_en.lower()) if scenario else "这个",
        "sla": f"{sla_hours:g}" if sla_hours else "24",
    }
    lines = [agent + rng.choice(_ZH_AGENT_GREET if zh else _EN_AGENT_GREET).format_map(values)]
    lines.append(customer + customer_says)
    if scenario is None:
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
    rng: random.Random, scenario: Scenario | None, ctx: TextContext, *, avoid_keywords: bool
) -> str:
    """A public post: short, addressed to the brand, often with a hashtag."""
    brand_zh, _brand_en, handle = _brand(ctx.domain)
    if scenario is None:
        body = off_topic_text(rng, ctx, spoken=False)
    else:
        body = customer_text(
            rng, scenario, ctx, spoken=False, avoid_keywords=avoid_keywords, short=True
        )
    if ctx.language == "zh":
        head = rng.choice((f"@{brand_zh} ", f"#{brand_zh}# ", f"用了{brand_zh}，", ""))
        return (head + body + " " + rng.choice(_ZH_SOCIAL_TAIL)).strip()
    head = rng.choice((f"@{handle} ", f"Hey @{handle}, ", ""))
    return (head + body + " " + rng.choice(_EN_SOCIAL_TAIL)).strip()
