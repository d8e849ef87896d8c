"""Words and weights of the seeded tickets (seed_scale, bench/scale/tickets.py): teams and who is in
them, the mix of categories, channels and priorities, and the texts of subjects and steps."""

from .vocab import cumulative

# (English name, Chinese name, staff numbers in the team, manager number): scale_staff01 (the
# benchmark's busiest user) is first in the customer service team; a few staff are in two teams.
TEAMS = [
    ("Customer service", "客服中心", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 1),
    ("After-sales repair", "售后维修", [13, 14, 15, 16, 17, 18, 19, 5], 2),
    ("Returns and refunds", "退换货组", [20, 21, 22, 23, 24, 25, 9], 3),
    ("Billing and membership", "会员与账单", [26, 27, 28, 29, 30, 12], 4),
    ("Store service", "门店服务", [31, 32, 33, 34, 35, 36], 5),
]
CS, REPAIR, RETURNS, BILLING, STORE = range(len(TEAMS))

# Category keys (service migration 0002) with their share and the teams that take them first.
CATEGORY_WEIGHTS = {"complaint": 18, "repair": 22, "return": 17, "enquiry": 28, "billing": 10, "other": 5}
FIRST_TEAM = {
    "complaint": ([CS, STORE], [80, 20]),
    "repair": ([REPAIR, CS], [90, 10]),
    "return": ([RETURNS, STORE], [85, 15]),
    "enquiry": ([CS, STORE], [75, 25]),
    "billing": ([BILLING, CS], [80, 20]),
    "other": ([CS], [100]),
}
# Where a hand-off goes from each team (协同办公).
HANDOFF_TO = {
    CS: [REPAIR, RETURNS, BILLING],
    REPAIR: [CS, RETURNS],
    RETURNS: [BILLING, CS],
    BILLING: [CS],
    STORE: [CS, REPAIR, RETURNS],
}

CHANNELS = ["phone", "wechat", "email", "store", "web"]
CHANNEL_CUM = cumulative([40, 25, 12, 15, 8])
PRIORITIES = ["normal", "low", "high", "urgent"]
PRIORITY_CUM = cumulative([70, 12, 14, 4])

SUBJECTS = {
    "complaint": ["投诉：门店服务态度差", "投诉：等候时间过长", "Complaint about a rude staff member",
                  "投诉：会员权益未兑现", "投诉：电话多次无人接听", "投诉：商品与描述不符",
                  "Complaint: promised call-back never came"],
    "repair": ["电器无法开机，申请维修", "维修进度查询", "Repair: screen flickers", "上门维修预约", "保修期内故障报修",
               "Repair: battery drains fast", "维修后问题复发"],
    "return": ["申请七天无理由退货", "退款未到账", "Return: wrong size delivered", "换货申请：颜色不对", "退货运费争议",
               "Refund for a cancelled order"],
    "enquiry": ["积分兑换规则咨询", "会员等级怎么升级", "Opening hours of the new store", "发票怎么开", "活动优惠咨询",
                "Question about the membership fee", "配送范围咨询", "预存余额能否转让"],
    "billing": ["会员费重复扣款", "账单金额有误", "Charged twice for the annual fee", "余额不符", "自动续费取消",
                "Invoice title is wrong"],
    "other": ["修改联系方式", "建议：增加夜间客服", "Feedback on the app", "其他问题", "Lost membership card"],
}  # fmt: skip
NEEDS = [
    "客户来电，情绪比较激动，要求今天给答复。",
    "客户说已经是第二次反映这个问题了。",
    "The customer wants a call back after 18:00.",
    "客户在门店现场，希望尽快处理。",
    "客户通过微信发来照片。",
    "希望给个明确的处理时间。",
    "The customer asked for the answer in writing.",
    "客户表示如果处理不好会考虑注销会员卡。",
    "",
]
WORK = [
    "电话联系客户，确认问题细节",
    "查询订单和会员记录",
    "联系仓库核实库存",
    "Checked the order history and the payment records",
    "安排师傅上门检测",
    "与门店店长沟通情况",
    "Called the supplier about the part",
    "核对扣款流水",
    "寄出替换配件",
]
REPLIES = [
    "已致电客户说明处理方案，客户同意",
    "微信回复客户：已受理，两个工作日内答复",
    "Told the customer the refund takes 3-5 working days",
    "已告知客户维修预约时间",
    "向客户致歉并说明原因",
    "Explained the points rules to the customer",
    "已发送处理结果短信",
]
NOTES = [
    "内部备注：客户是老会员，注意态度",
    "客户之前有过类似投诉",
    "Internal: check with finance before promising a refund",
    "备注：客户只接受下午来电",
    "=SUM(A1:A3) 客户原话照录",
    "<b>客户</b>坚持要书面答复",
]
HANDOFFS = ["需要维修组上门处理", "转交退换货组办理退款", "Needs finance to check the double charge", "请门店协助处理",
            "转客服中心统一回访"]  # fmt: skip
WAITS = ["等待客户提供发票照片", "Waiting for the customer to send the serial number", "等客户确认上门时间",
         "等待客户寄回商品"]  # fmt: skip
RESUMES = ["客户已提供资料", "The customer sent the photos", "客户已确认时间", ""]
RESOLUTIONS = [
    "已为客户办理退款",
    "维修完成，客户确认正常",
    "已解释清楚，客户满意",
    "Replaced the item; the customer is happy",
    "补发积分 500 分作为补偿",
    "已更正账单并退回多扣款项",
    "Answered the question on the phone",
    "已向客户道歉并给予优惠券",
]
RESULTS = ["客户满意", "客户接受", "Customer satisfied", "客户仍有意见", "", ""]
REOPENS = ["客户反映问题没有解决", "The fault came back after a week", "退款仍未到账，重新处理"]
CANCELS = ["客户撤回申请", "重复登记的处理单", "Opened by mistake", "客户已自行解决"]
AT_CLOSURE = "会员卡注销时一并处理 / Handled when the card was closed"
