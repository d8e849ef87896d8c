"""Vocabulary and skewed distributions for ``seed_scale``.

Names follow real frequencies: Chinese surnames with Faker's zh_CN weights (王, 李, 张, 刘,
陈 ... about a third of all people), given names composed from common characters with a
Zipf-like skew plus a tail of rare ones, so that one- and two-character searches meet both
very frequent and very rare terms, as they do in a real customer base.
"""

from itertools import accumulate

from faker.providers.person.en_US import Provider as EnglishNames
from faker.providers.person.zh_CN import Provider as ChineseNames


def cumulative(weights) -> list[float]:
    """Cumulative weights for ``random.choices(cum_weights=...)`` (faster than weights=)."""
    return list(accumulate(weights))


def zipf(n: int, s: float = 1.0, floor: float = 0.0) -> list[float]:
    return [1.0 / (rank**s) + floor for rank in range(1, n + 1)]


# --- Chinese names --------------------------------------------------------------------------
SURNAMES = list(ChineseNames.last_names.keys())
SURNAME_CUM = cumulative(ChineseNames.last_names.values())
# Compound surnames are rare but real; Faker's list has only 欧阳.
COMPOUND_SURNAMES = ["司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "尉迟", "公孙", "夏侯"]

# Whole given names as people are really called (Faker's list: 伟, 秀英, 建国, 婷婷 ...).
COMMON_GIVEN = list(ChineseNames.first_names)

# Characters given names are composed of, roughly most frequent first.
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建文辉力斌鹏宇浩凯晨欣怡婷雪琳晶颖倩慧佳"
    "子梓涵轩博睿思雨诗梦嘉俊志海峰鑫波飞健帆旭宁龙林欢阳亮成东雷兵彬坤岩楠梅莉丹萍燕玲琴洁云莹瑶"
    "涵萱妍悦彤璐瑞泽昊然铭宸逸航晓振国庆春秋冬新永德福贵荣祥安康乐美淑珍凤兰翠娥香云霞彩菊萍"
    "一小天晓志家世学金长立正光明少大中子仁义礼智信忠孝廉泉河江湖山石松柏竹青蓝紫朗清雅静和顺"
)
RARE_GIVEN_CHARS = "曦翊彧昶珺璟玥琰珩瑾琪琛煜晔昕晞暄炜烨熠灏澜沅淇溪潇濡渊焱鑫淼森垚犇骉骁骥驰骐麒麟鸾凰"
GIVEN_POOL = list(dict.fromkeys(GIVEN_CHARS)) + list(dict.fromkeys(RARE_GIVEN_CHARS))
GIVEN_CUM = cumulative(
    zipf(len(dict.fromkeys(GIVEN_CHARS)), s=0.9, floor=0.002) + [0.0004] * len(dict.fromkeys(RARE_GIVEN_CHARS))
)

# --- English names --------------------------------------------------------------------------
EN_FIRST = list(EnglishNames.first_names.keys())
EN_FIRST_CUM = cumulative(EnglishNames.first_names.values())
EN_LAST = list(EnglishNames.last_names.keys())
EN_LAST_CUM = cumulative(EnglishNames.last_names.values())

# --- Places -------------------------------------------------------------------------------
CITIES = [
    "上海",
    "北京",
    "深圳",
    "广州",
    "杭州",
    "成都",
    "重庆",
    "武汉",
    "南京",
    "苏州",
    "西安",
    "天津",
    "长沙",
    "郑州",
    "东莞",
    "青岛",
    "沈阳",
    "宁波",
    "昆明",
    "合肥",
    "佛山",
    "无锡",
    "厦门",
    "福州",
    "济南",
    "大连",
    "哈尔滨",
    "长春",
    "温州",
    "石家庄",
    "南宁",
    "贵阳",
    "南昌",
    "太原",
    "常州",
    "珠海",
    "烟台",
    "嘉兴",
    "南通",
    "金华",
    "惠州",
    "徐州",
    "兰州",
    "海口",
    "乌鲁木齐",
    "呼和浩特",
    "香港",
    "澳门",
]
CITY_CUM = cumulative(zipf(len(CITIES), s=0.8))
DISTRICTS = [
    "朝阳区",
    "海淀区",
    "浦东新区",
    "徐汇区",
    "天河区",
    "南山区",
    "福田区",
    "西湖区",
    "武侯区",
    "江北区",
    "鼓楼区",
    "高新区",
    "经开区",
    "工业园区",
    "滨江区",
    "江宁区",
    "雁塔区",
    "和平区",
    "市南区",
    "思明区",
]
ROADS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "延安路",
    "南京路",
    "北京路",
    "科技路",
    "学府路",
    "文化路",
    "新华路",
    "光明路",
    "东风路",
    "胜利路",
    "幸福路",
    "青年路",
    "滨河路",
]

# --- Contact ------------------------------------------------------------------------------
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]
# (+country code, digits after it) for the few foreign numbers.
FOREIGN_PHONES = [("852", 8), ("853", 8), ("886", 9), ("1", 10), ("44", 10), ("65", 8), ("81", 10), ("61", 9)]
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "sina.com",
    "foxmail.com",
    "hotmail.com",
    "139.com",
    "yahoo.com",
    "icloud.com",
    "aliyun.com",
]
EMAIL_DOMAIN_CUM = cumulative(zipf(len(EMAIL_DOMAINS), s=1.1))

# --- Work -----------------------------------------------------------------------------------
OCCUPATIONS = [
    "教师",
    "工程师",
    "医生",
    "会计",
    "销售",
    "设计师",
    "律师",
    "公务员",
    "自由职业",
    "学生",
    "退休",
    "个体经营",
    "程序员",
    "护士",
    "Engineer",
    "Teacher",
    "Consultant",
    "Manager",
]
COMPANIES = [
    "华为技术有限公司",
    "腾讯科技",
    "阿里巴巴集团",
    "中国平安",
    "招商银行",
    "美的集团",
    "小米科技",
    "京东集团",
    "比亚迪股份",
    "万科企业",
    "海尔集团",
    "格力电器",
    "顺丰速运",
    "中国移动",
    "联想集团",
] + ["Acme Trading Ltd", "Globex Asia", "Initech Shanghai", "Pacific Imports Co.", "Harbor Logistics"]
TITLES = ["经理", "总监", "主管", "专员", "工程师", "总经理", "助理", "顾问", "Director", "Manager", "Analyst"]
PREFERENCES = [
    "偏好周末联系",
    "只接受短信通知",
    "喜欢新品试用",
    "对价格敏感，关注促销",
    "偏好线下门店",
    "需要发票",
    "Prefers email over calls",
    "Interested in premium products",
    "Call after 6pm",
    "VIP 活动优先邀请",
    "不喜欢电话推销",
    "关注会员积分兑换",
    "生日当月赠送礼品",
    "偏好微信沟通",
]
WECHAT_PREFIXES = ["wxid_", "wx_", ""]

# --- Purchases and interactions -----------------------------------------------------------------
PRODUCTS = [
    "年度会员卡",
    "季度会员卡",
    "储值卡充值",
    "护肤套装",
    "保健品礼盒",
    "咖啡豆 500g",
    "茶叶礼盒",
    "运动鞋",
    "羊毛大衣",
    "蓝牙耳机",
    "智能手表",
    "空气净化器",
    "洗护套装",
    "儿童绘本套装",
    "私教课 10 节",
    "Gift card",
    "Premium plan",
    "Annual subscription",
    "Starter kit",
    "Accessories bundle",
]
PRODUCT_CUM = cumulative(zipf(len(PRODUCTS), s=0.7))
INTERACTION_KINDS = ["call", "email", "meeting", "visit", "message"]
INTERACTION_KIND_CUM = cumulative([40, 15, 8, 7, 30])
INTERACTION_SUMMARIES = [
    "回访满意度",
    "介绍新品",
    "会员续费提醒",
    "处理投诉",
    "确认收货地址",
    "邀请参加门店活动",
    "跟进报价",
    "解答积分规则",
    "生日祝福",
    "Follow-up on renewal",
    "Answered billing question",
    "Product demo",
    "预约上门服务",
    "售后维修跟进",
    "催付尾款",
]
INTERACTION_OUTCOMES = ["", "", "客户满意", "需再次跟进", "已解决", "无人接听", "Interested", "Declined", "已下单"]

# --- Closures -----------------------------------------------------------------------------------
# Share of open closures by action, and of reverted ones (an erasure is never reverted).
OPEN_ACTIONS = ["close", "void", "archive", "erase"]
OPEN_ACTION_CUM = cumulative([74, 12, 11, 3])
REVERTED_ACTIONS = ["close", "void", "archive"]
REVERTED_ACTION_CUM = cumulative([70, 18, 12])

# Real churn is skewed: a few categories carry most closures. Weights per action and category;
# within a category the reasons share its weight, the first (by display order) getting most.
CATEGORY_WEIGHTS = {
    "close": {
        "price": 30,
        "competitor": 24,
        "service": 14,
        "inactivity": 9,
        "product": 7,
        "moved": 6,
        "customer_request": 6,
        "deceased": 1,
        "other": 3,
    },
    "void": {"duplicate": 68, "data_error": 26, "moved": 2, "other": 4},
    "archive": {"inactivity": 80, "moved": 12, "deceased": 3, "other": 5},
    "erase": {"customer_request": 88, "data_error": 8, "other": 4},
}

NOTES = {
    "price": ["客户反映年费太贵", "竞品价格低 20%", "Said the renewal price was too high", "要求降价未果"],
    "competitor": ["转去了隔壁门店", "竞争对手提供更多优惠", "Moved to a competitor's loyalty plan", "朋友推荐了别家"],
    "service": ["多次投诉等待时间过长", "对售后处理不满意", "Complained about rude staff", "=客服态度差（客户原话）"],
    "product": ["产品效果未达预期", "需要的型号一直缺货", "Product did not fit their needs"],
    "moved": ["搬到外地工作", "公司迁址", "Relocated overseas", "回老家发展"],
    "deceased": ["家属来电告知", "Family informed us"],
    "inactivity": ["两年未消费", "多次联系无回应", "No purchase for 24 months", "-长期沉睡客户"],
    "duplicate": ["与另一张卡重复登记", "同一手机号重复建档", "Duplicate of an older card"],
    "data_error": ["姓名和电话录入错误", "测试数据", "Wrong phone number entered", "+86 号码格式错误"],
    "customer_request": ["客户电话要求销卡", "客户到店申请注销", "Customer asked by email", "@客服 已确认身份"],
    "other": ["其他原因，见沟通记录", "客户未说明原因", "Other: see call log", "门店关闭后统一处理"],
}
REVERT_NOTES = [
    "客户回来续费",
    "误操作，恢复",
    "客户改变主意",
    "Reinstated after the customer returned",
    "核实后非重复记录",
    "Closed by mistake",
]
SETTLEMENT_NOTES = ["余额已退还至原支付方式", "积分已兑换礼品", "Balance refunded in cash", "余额转入家属账户"]
