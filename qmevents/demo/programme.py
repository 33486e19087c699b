"""Demo programme for qmevents: Shanghai's district Quality Month (质量月) activities. (Over 400
lines on purpose: it is data, one entry per activity of the press digest.)

The programme is derived from the press digest 《上海“质量月”区县活动集锦》 covering one
year's Quality Month (September 2019).  That September's dates are not used: every
session carries a ``day`` offset (1..40) counted from the day the demo is loaded, and
the demo command turns it into a date in the coming weeks.  The offsets follow the
digest's calendar loosely (9月3日 -> day 3, 9月11日 -> day 11, ...), so the relative
order of the activities is kept.  Times are Shanghai local time ("HH:MM").

What comes from the digest: the districts, titles, hosts and co-organisers, the venues
named there, the themes, and the services offered at the fairs (the door tallies).
Descriptions are rewritten for citizens as invitations; past-tense figures from the
digest are only used to size capacities.

Invented for the demo (the digest does not give them):

* every session time, capacity, party-size limit, registration mode and checkpoint
  list, and most street addresses (approximate, district-correct; none is authoritative);
* 长宁: the venue (中山公园龙之梦广场) -- the digest gives no place;
* 浦东: the debate venue inside the 上海国际旅游度假区 and public audience seats;
* 虹口: the whole event -- a parents' talk on the autumn school-uniform spot check
  (the digest only reports the spot check itself);
* 普陀: four of the eight tour stations (M50创意园, 桃浦智创城展示中心,
  普陀区计量科普体验站, 普陀区食品安全科普馆); the digest names only 英雄金笔厂,
  提格机器人, 苏州河工业文明展示馆 and 上海纺织博物馆 "等8个站点";
* 杨浦: the enterprises (杨树浦水厂, 长阳创谷, 上海国际时尚中心) -- the digest says
  six enterprises without naming them;
* 嘉定: the separate 平高天灵 open day (draft) -- the digest only says the 嘉昆太
  open-day campaign was launched at the forum;
* 青浦: the towns and dates of the nine 质量故事巡讲 sessions;
* 徐汇: splitting the morning into a stalls session and a lecture session.

Drafts (status "draft", to give organisers something unpublished): the 嘉定 平高天灵
open day and the 杨浦 上海国际时尚中心 open day.
"""
from __future__ import annotations

DISTRICTS = [
    ("黄浦区", "Huangpu"),
    ("徐汇区", "Xuhui"),
    ("长宁区", "Changning"),
    ("静安区", "Jing'an"),
    ("普陀区", "Putuo"),
    ("虹口区", "Hongkou"),
    ("杨浦区", "Yangpu"),
    ("闵行区", "Minhang"),
    ("宝山区", "Baoshan"),
    ("嘉定区", "Jiading"),
    ("浦东新区", "Pudong"),
    ("金山区", "Jinshan"),
    ("松江区", "Songjiang"),
    ("青浦区", "Qingpu"),
    ("奉贤区", "Fengxian"),
    ("崇明区", "Chongming"),
]

# One organising bureau per district: (organisation name, login slug).
BUREAUS = {
    "黄浦区": ("黄浦区市场监督管理局", "huangpu"),
    "徐汇区": ("徐汇区市场监督管理局", "xuhui"),
    "长宁区": ("长宁区市场监督管理局", "changning"),
    "静安区": ("静安区市场监督管理局", "jingan"),
    "普陀区": ("普陀区市场监督管理局", "putuo"),
    "虹口区": ("虹口区市场监督管理局", "hongkou"),
    "杨浦区": ("杨浦区市场监督管理局", "yangpu"),
    "闵行区": ("闵行区市场监督管理局", "minhang"),
    "宝山区": ("宝山区市场监督管理局", "baoshan"),
    "嘉定区": ("嘉定区市场监督管理局", "jiading"),
    "浦东新区": ("浦东新区市场监督管理局", "pudong"),
    "金山区": ("金山区市场监督管理局", "jinshan"),
    "松江区": ("松江区市场监督管理局", "songjiang"),
    "青浦区": ("青浦区市场监督管理局", "qingpu"),
    "奉贤区": ("奉贤区市场监督管理局", "fengxian"),
    "崇明区": ("崇明区市场监督管理局", "chongming"),
}

EVENT_KINDS = ("open_day", "family_tour", "consultation", "lecture", "forum", "debate", "other")
REGISTRATION_MODES = ("fcfs", "waitlist", "approval", "lottery")
STATUSES = ("draft", "published")

EVENTS = [
    # ------------------------------------------------------------------ 静安 (9月3日)
    {
        "district": "静安区",
        "title": "静安区“质量月”宣传咨询便民活动",
        "kind": "consultation",
        "host": "静安区市场监管局",
        "venue": "800秀创意园",
        "address": "上海市静安区常德路800号",
        "description": (
            "围绕“推动高质量发展，建设质量强国”主题，现场提供产品质量、食品安全、特种设备、"
            "药品化妆品、医疗器械、标准计量和消费者权益保护等法制宣传与咨询。"
            "雷允上专家现场比对真假冬虫夏草，南德认证检测专家讲解电器产品安全，"
            "德诺检测专家讲解食品相关产品安全。现场免费测量血压、发放消费指南和科普资料。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 3, "start": "09:30", "end": "11:30", "capacity": 300, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["血压测量", "资料发放", "咨询"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 黄浦 (9月5日)
    {
        "district": "黄浦区",
        "title": "上海国拍“质量开放日”半日游",
        "kind": "open_day",
        "host": "上海国际商品拍卖有限公司",
        "venue": "上海国拍",
        "address": "上海市黄浦区（具体地址随邀约通知）",
        "description": (
            "黄浦区市场监管局组织上海国拍向社会开放，体验国拍“半日游”。"
            "工作人员将介绍拍卖相比其他交易方式的独到之处，讲解车牌额度、民品、艺术品等业务的拍卖流程，"
            "并分享国拍发展历程中的经典案例。本活动需先预登记，审核通过后发出邀约。"
        ),
        "max_party_size": 2,
        "registration_mode": "approval",
        "sessions": [
            {"day": 5, "start": "13:30", "end": "16:30", "capacity": 50, "label": "半日游"},
        ],
        "checkpoints": ["入口", "拍卖大厅"],
        "tallies": [],
        "status": "published",
    },
    # ------------------------------------------------------------------ 松江 (9月6日上午)
    {
        "district": "松江区",
        "title": "松江区青年志愿者“质量月”公益服务",
        "kind": "consultation",
        "host": "松江区质量办、区市场监管局、团区委、方松街道、区青年中心",
        "venue": "地中海商业广场",
        "address": "上海市松江区方松街道地中海商业广场",
        "description": (
            "松江区“质量月”主题宣传活动走进社区，现场设置展览台和展板。"
            "青年志愿者发放宣传资料、解答质量咨询，并提供人参切片、“一元点绿”、金融知识科普等爱心便民服务。"
            "欢迎居民携家人前来参与。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 6, "start": "09:00", "end": "11:30", "capacity": 300, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["资料发放", "咨询", "人参切片", "一元点绿", "金融知识科普"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 闵行 (9月6日)
    {
        "district": "闵行区",
        "title": "闵行区“质量月”启动仪式暨便民服务",
        "kind": "consultation",
        "host": "闵行区市场监管局",
        "venue": "中庚漫游城",
        "address": "上海市闵行区中庚漫游城中庭广场",
        "description": (
            "以“放飞质量梦想 共筑闵行品质”为主题的闵行区“质量月”启动活动。"
            "现场提供消费投诉受理、水银血压计免费校验、首饰珠宝鉴定和眼镜修理等服务，"
            "区内品牌企业也将到场普及产品使用安全常识。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 6, "start": "14:00", "end": "17:00", "capacity": 400, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["投诉受理", "血压计校验", "珠宝鉴定", "眼镜修理"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 金山 (9月6日晚)
    {
        "district": "金山区",
        "title": "金山“质量月”启动仪式暨便民服务夜市",
        "kind": "consultation",
        "host": "金山区市场监管局、区消保委、石化街道",
        "venue": "石化东礁广场",
        "address": "上海市金山区石化街道东礁广场",
        "description": (
            "金山区“质量月”启动仪式在石化东礁广场晚间举行。"
            "现场设置展板展台，宣传计量标准、消费维权和质量发展知识，"
            "提供投诉举报咨询与受理、水银血压计检修、眼镜“四免”等便民服务，还有有奖竞答和文艺表演。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 6, "start": "18:30", "end": "20:30", "capacity": 500, "label": "晚场"},
        ],
        "checkpoints": ["入口"],
        "tallies": ["资料发放", "投诉受理", "血压计检修", "眼镜“四免”", "有奖竞答"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 普陀 (9月6日至15日)
    {
        "district": "普陀区",
        "title": "普陀区家庭探寻质量发展之旅",
        "kind": "family_tour",
        "host": "普陀区市场监管局",
        "venue": "上海纺织博物馆（集合签到）",
        "address": "上海市普陀区澳门路150号",
        "description": (
            "围绕质量工匠、质量创新、质量文化、质量科普四大主题，邀请普通家庭走进英雄金笔厂、"
            "提格机器人、苏州河工业文明展示馆、上海纺织博物馆等8个具有质量代表性的站点，"
            "近距离感受城市质量发展变迁。每个家庭最多5人报名，请在首站签到后按顺序参观。"
        ),
        "max_party_size": 5,
        "registration_mode": "waitlist",
        "sessions": [
            {"day": 6, "start": "09:00", "end": "12:00", "capacity": 30, "label": "上午场"},
            {"day": 7, "start": "09:00", "end": "12:00", "capacity": 30, "label": "上午场"},
            {"day": 7, "start": "13:30", "end": "16:30", "capacity": 30, "label": "下午场"},
            {"day": 8, "start": "09:00", "end": "12:00", "capacity": 30, "label": "上午场"},
            {"day": 13, "start": "09:00", "end": "12:00", "capacity": 30, "label": "上午场"},
            {"day": 14, "start": "09:00", "end": "12:00", "capacity": 40, "label": "上午场"},
            {"day": 14, "start": "13:30", "end": "16:30", "capacity": 40, "label": "下午场"},
            {"day": 15, "start": "09:00", "end": "12:00", "capacity": 40, "label": "上午场"},
        ],
        # Eight stations; the first is the entrance (check-in).  The first four are named
        # in the digest; the last four are INVENTED plausible Putuo sites for the demo. The
        # museum's address is the digest's; the other addresses and all hours are INVENTED.
        "checkpoints": [
            ("上海纺织博物馆", "上海市普陀区澳门路150号", "09:00-16:30"),
            ("苏州河工业文明展示馆", "上海市普陀区光复西路2690号", "09:00-16:30"),
            ("英雄金笔厂", "上海市普陀区金沙江路1485号", "09:30-16:00"),
            ("提格机器人", "上海市普陀区中江路879弄", "09:30-16:00"),
            ("M50创意园", "上海市普陀区莫干山路50号", "10:00-16:30"),  # invented
            ("桃浦智创城展示中心", "上海市普陀区桃浦路1号", "09:00-16:00"),  # invented
            ("普陀区计量科普体验站", "上海市普陀区真北路988号", "09:00-16:00"),  # invented
            ("普陀区食品安全科普馆", "上海市普陀区曹杨路1号", "09:00-16:00"),  # invented
        ],
        "tallies": [],
        "status": "published",
    },
    # ------------------------------------------------------------------ 浦东 (9月9日下午)
    {
        "district": "浦东新区",
        "title": "浦东度假区首届质量主题辩论赛",
        "kind": "debate",
        "host": "浦东新区市场监管局；迪士尼、申迪集团、奕欧来购物村、新能源公司",
        "venue": "上海国际旅游度假区会议中心",  # venue invented
        "address": "上海市浦东新区川沙新镇上海国际旅游度假区内",
        "description": (
            "上海国际旅游度假区首届质量主题辩论赛，迪士尼、申迪集团、奕欧来购物村、新能源公司四家企业"
            "围绕“质量管理，主要靠人还是靠制度”展开辩论。观众席位有限，报名后摇号确定。"
            "现场同步介绍度假区“百店话质量”短视频征集活动。"
        ),
        "max_party_size": 1,
        "registration_mode": "lottery",
        "sessions": [
            {"day": 9, "start": "14:00", "end": "16:30", "capacity": 100, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": [],
        "status": "published",
    },
    # ------------------------------------------------------------------ 虹口 (质量月期间)
    # INVENTED around the digest: the digest only reports the school-uniform spot check
    # (7 schools, 11 batches of shirts, T-shirts, trousers and skirts).  A parents' talk
    # explaining what was tested is a plausible public follow-up for the demo.
    {
        "district": "虹口区",
        "title": "校服质量抽检结果家长说明会",
        "kind": "lecture",
        "host": "虹口区市场监管局",
        "venue": "虹口区市场监管局多功能厅",
        "address": "上海市虹口区（区市场监管局，具体地址见报名确认）",
        "description": (
            "结合新学期开学，虹口区市场监管局对辖区中小学发放的夏季（秋季）校服开展了专项抽检，"
            "涉及衬衫、T恤、运动长裤、裙子等品类。说明会将向家长介绍绳带和配件安全、"
            "可分解芳香胺染料、纤维含量、甲醛、pH值、色牢度等检测项目，以及选购和洗护校服的注意事项。"
        ),
        "max_party_size": 2,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 10, "start": "18:30", "end": "20:00", "capacity": 80, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["资料发放"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 奉贤 (9月11日, 三家同日)
    {
        "district": "奉贤区",
        "title": "晨冠乳业质量开放日",
        "kind": "open_day",
        "host": "上海晨冠乳业有限公司",
        "venue": "晨冠乳业奉贤工厂",
        "address": "上海市奉贤区（晨冠乳业厂区，具体地址见报名确认）",
        "description": (
            "政府质量奖获奖企业晨冠乳业向社会开放，公开展示质量管理实践成果和经验。"
            "市民可走进工厂了解乳制品生产的质量管控，感受企业的质量管理文化。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 11, "start": "09:30", "end": "11:30", "capacity": 40, "label": "上午场"},
            {"day": 11, "start": "14:00", "end": "16:00", "capacity": 40, "label": "下午场"},
        ],
        "checkpoints": ["入口", "生产参观通道", "企业展厅"],
        "tallies": [],
        "status": "published",
    },
    {
        "district": "奉贤区",
        "title": "伽蓝集团质量开放日",
        "kind": "open_day",
        "host": "伽蓝（集团）股份有限公司",
        "venue": "伽蓝集团奉贤基地",
        "address": "上海市奉贤区东方美谷（伽蓝集团基地，具体地址见报名确认）",
        "description": (
            "政府质量奖获奖企业伽蓝集团向社会开放，展示化妆品研发与生产中的质量管理实践。"
            "开放日旨在宣传推广企业独树一帜的质量管理文化，促进科学质量管理方法的传播与应用。"
        ),
        "max_party_size": 3,
        "registration_mode": "waitlist",
        "sessions": [
            {"day": 11, "start": "09:30", "end": "11:30", "capacity": 40, "label": "上午场"},
            {"day": 11, "start": "14:00", "end": "16:00", "capacity": 40, "label": "下午场"},
        ],
        "checkpoints": ["入口", "企业展厅"],
        "tallies": [],
        "status": "published",
    },
    {
        "district": "奉贤区",
        "title": "菲林格尔质量开放日",
        "kind": "open_day",
        "host": "菲林格尔家居科技股份有限公司",
        "venue": "菲林格尔奉贤工厂",
        "address": "上海市奉贤区林海公路（菲林格尔厂区，具体地址见报名确认）",
        "description": (
            "政府质量奖获奖企业菲林格尔向社会开放，介绍地板产品从原料到成品的质量管理实践。"
            "市民可现场了解企业质量管理经验，体验科学质量管理方法在生产中的应用。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 11, "start": "13:30", "end": "15:30", "capacity": 50, "label": ""},
        ],
        "checkpoints": ["入口", "生产车间", "产品展厅"],
        "tallies": [],
        "status": "published",
    },
    # ------------------------------------------------------------------ 嘉定 (9月11日)
    {
        "district": "嘉定区",
        "title": "嘉昆太“卓行越远”质量论坛",
        "kind": "forum",
        "host": "嘉定、昆山、太仓三地市场监管局",
        "venue": "上海威派格智慧水务股份有限公司",
        "address": "上海市嘉定区恒定路1号",
        "description": (
            "嘉定、昆山、太仓三地市场监管局联合举办质量论坛，威派格、平高天灵、金发科技、裕克施乐"
            "四家企业代表分享质量管理经验，嘉宾互动交流。论坛面向企业质量管理人员，报名需审核。"
        ),
        "max_party_size": 1,
        "registration_mode": "approval",
        "sessions": [
            {"day": 11, "start": "14:00", "end": "16:30", "capacity": 80, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": [],
        "status": "published",
    },
    {
        "district": "嘉定区",
        "title": "嘉昆太“质量开放日”·走进威派格",
        "kind": "open_day",
        "host": "上海威派格智慧水务股份有限公司",
        "venue": "上海威派格智慧水务股份有限公司",
        "address": "上海市嘉定区恒定路1号",
        "description": (
            "嘉昆太“质量开放日”启动当天，威派格向公众开放，介绍智慧供水设备的质量管理经验。"
            "市民可参观企业，了解二次供水背后的质量保障。"
        ),
        "max_party_size": 3,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 11, "start": "09:30", "end": "11:30", "capacity": 40, "label": ""},
        ],
        "checkpoints": ["入口", "企业展厅"],
        "tallies": [],
        "status": "published",
    },
    # INVENTED date/programme: a later 嘉昆太 open day at another speaker enterprise; draft.
    {
        "district": "嘉定区",
        "title": "嘉昆太“质量开放日”·走进平高天灵",
        "kind": "open_day",
        "host": "上海平高天灵开关有限公司",
        "venue": "上海平高天灵开关有限公司",
        "address": "上海市嘉定区（平高天灵厂区，具体地址见报名确认）",
        "description": (
            "嘉昆太“质量开放日”系列活动之一，平高天灵介绍开关设备生产的质量管理实践。"
            "活动安排待确认。"
        ),
        "max_party_size": 2,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 19, "start": "09:30", "end": "11:30", "capacity": 30, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": [],
        "status": "draft",
    },
    # ------------------------------------------------------------------ 崇明 (9月12日)
    {
        "district": "崇明区",
        "title": "崇明区“质量月”现场宣传咨询活动",
        "kind": "consultation",
        "host": "崇明区市场监管局",
        "venue": "城桥镇八一路步行街",
        "address": "上海市崇明区城桥镇八一路步行街",
        "description": (
            "现场接受标准、计量、认证、特种设备和食品安全咨询，受理群众投诉举报。"
            "服务台为市民提供血压计免费校修、酒类鉴别等便民服务，欢迎带上家中的血压计前来。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 12, "start": "09:00", "end": "11:30", "capacity": 300, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["资料发放", "投诉受理", "血压计校修", "酒类鉴别"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 徐汇 (9月12日上午)
    {
        "district": "徐汇区",
        "title": "质量之旅走进邻里汇",
        "kind": "consultation",
        "host": "徐汇区市场监管局、上海市药材有限公司",
        "venue": "长桥街道邻里汇",
        "address": "上海市徐汇区长桥街道邻里汇",
        "description": (
            "“一流源自品质·卓越引领未来”主题宣传活动走进邻里汇，设置8个主题摊位。"
            "医药公司工作人员展示当季药材和市场常见中药材，现场教授鉴别药食同源品种。"
            "上海雷氏中医门诊部中医举办公益科普讲座《秋季话养生》，讲授秋季养生和滋补类中药材辨别知识。"
        ),
        "max_party_size": 3,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 12, "start": "09:00", "end": "10:15", "capacity": 200, "label": "主题摊位·药材鉴别"},
            {"day": 12, "start": "10:30", "end": "11:30", "capacity": 80, "label": "讲座《秋季话养生》"},
        ],
        "checkpoints": ["入口", "讲座室"],
        "tallies": ["资料发放", "宣传品发放", "药材鉴别"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 宝山 (9月17日下午)
    {
        "district": "宝山区",
        "title": "质量标杆企业展示·走进新通联",
        "kind": "open_day",
        "host": "上海新通联包装股份有限公司",
        "venue": "新通联包装厂区",
        "address": "上海市宝山区（新通联厂区，具体地址见报名确认）",
        "description": (
            "宝山区质量标杆企业展示活动，走进新通联参观生产现场、文化展厅和测试中心，"
            "观看以《匠人》为主题的企业文化宣传片，并与企业座谈交流质量发展经验。"
        ),
        "max_party_size": 2,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 17, "start": "13:30", "end": "16:30", "capacity": 30, "label": ""},
        ],
        "checkpoints": ["入口", "生产现场", "文化展厅", "测试中心"],
        "tallies": [],
        "status": "published",
    },
    # ------------------------------------------------------------------ 杨浦 (质量月期间)
    # The digest says six Yangpu enterprises held open days but names none.  The three
    # below (and their dates) are INVENTED plausible Yangpu sites for the demo.
    {
        "district": "杨浦区",
        "title": "杨树浦水厂质量开放日",
        "kind": "open_day",
        "host": "上海城投水务（集团）有限公司",  # invented
        "venue": "杨树浦水厂",  # invented
        "address": "上海市杨浦区杨树浦路830号",
        "description": (
            "杨浦区“质量开放日”活动之一，走进百年水厂，了解自来水从原水到龙头的质量管控。"
            "通过企业形象展示、质量管理经验介绍和现场互动，引导公众走近质量、感受质量。"
        ),
        "max_party_size": 4,
        "registration_mode": "waitlist",
        "sessions": [
            {"day": 18, "start": "09:30", "end": "11:30", "capacity": 50, "label": "上午场"},
            {"day": 18, "start": "14:00", "end": "16:00", "capacity": 50, "label": "下午场"},
        ],
        "checkpoints": ["入口", "水厂展示馆", "水质检测中心"],
        "tallies": [],
        "status": "published",
    },
    {
        "district": "杨浦区",
        "title": "长阳创谷企业质量开放日",
        "kind": "open_day",
        "host": "长阳创谷园区及入驻企业",  # invented
        "venue": "长阳创谷",  # invented
        "address": "上海市杨浦区长阳路1687号",
        "description": (
            "杨浦区“质量开放日”活动之一，园区入驻企业展示质量管理经验和创新成果。"
            "区内技术服务机构、高校师生和市民代表均可报名，现场互动交流，打开一扇质量科学之窗。"
        ),
        "max_party_size": 3,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 20, "start": "14:00", "end": "16:30", "capacity": 60, "label": ""},
        ],
        "checkpoints": ["入口", "企业展示区"],
        "tallies": [],
        "status": "published",
    },
    {
        "district": "杨浦区",
        "title": "上海国际时尚中心服装质量开放日",
        "kind": "open_day",
        "host": "上海国际时尚中心",  # invented
        "venue": "上海国际时尚中心",  # invented
        "address": "上海市杨浦区杨树浦路2866号",
        "description": (
            "杨浦区“质量开放日”活动之一，介绍服装面料、标识和检测等质量知识。活动安排待确认。"
        ),
        "max_party_size": 3,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 24, "start": "14:00", "end": "16:00", "capacity": 40, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": [],
        "status": "draft",
    },
    # ------------------------------------------------------------------ 长宁 (9月27日)
    {
        "district": "长宁区",
        "title": "长宁区“质量月”现场咨询及服务活动",
        "kind": "consultation",
        "host": "长宁区质量安全工作领导小组、市强制检定中心",
        "venue": "中山公园龙之梦广场",  # venue invented
        "address": "上海市长宁区长宁路1018号",
        "description": (
            "以“提升供给质量 推动质量发展”为主题，现场解答市民质量咨询，受理质量投诉举报，"
            "发放产品质量、特种设备、消费安全等宣传资料。"
            "市强制检定中心现场为市民免费校准、维修血压计。"
        ),
        "max_party_size": 4,
        "registration_mode": "fcfs",
        "sessions": [
            {"day": 27, "start": "09:30", "end": "11:30", "capacity": 250, "label": ""},
        ],
        "checkpoints": ["入口"],
        "tallies": ["咨询", "投诉受理", "资料发放", "血压计校修"],
        "status": "published",
    },
    # ------------------------------------------------------------------ 青浦 (9月, 九场巡讲)
    # Nine sessions as in the digest ("质量故事巡讲9场，观众500余人次"); the towns, dates and
    # each session's address (a town's community centre) are INVENTED.
    {
        "district": "青浦区",
        "title": "青浦“质量故事巡讲”系列讲座",
        "kind": "lecture",
        "host": "青浦区市场监管局",
        "venue": "青浦区各街镇巡讲点（见场次）",
        "address": "上海市青浦区（各场地点见场次说明）",
        "description": (
            "结合“企业开放日”活动，讲述青浦质量人的工匠故事，向社会传导追求卓越的质量价值理念。"
            "巡讲以群众喜闻乐见的“讲故事”方式，展示青浦在产品质量提升、人居环境优化等方面的质量成效。"
            "共九场，可报名离您最近的一场，也可报名系列通票听全部或多场。"
        ),
        "max_party_size": 2,
        "registration_mode": "fcfs",
        "series_pass": True,
        "sessions": [
            {"day": 4, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第1场·夏阳街道",
             "address": "上海市青浦区夏阳街道社区文化活动中心"},
            {"day": 7, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第2场·朱家角镇",
             "address": "上海市青浦区朱家角镇社区文化活动中心"},
            {"day": 10, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第3场·赵巷镇",
             "address": "上海市青浦区赵巷镇社区文化活动中心"},
            {"day": 13, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第4场·徐泾镇",
             "address": "上海市青浦区徐泾镇社区文化活动中心"},
            {"day": 16, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第5场·华新镇",
             "address": "上海市青浦区华新镇社区文化活动中心"},
            {"day": 19, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第6场·重固镇",
             "address": "上海市青浦区重固镇社区文化活动中心"},
            {"day": 22, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第7场·白鹤镇",
             "address": "上海市青浦区白鹤镇社区文化活动中心"},
            {"day": 25, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第8场·练塘镇",
             "address": "上海市青浦区练塘镇社区文化活动中心"},
            {"day": 28, "start": "14:00", "end": "15:30", "capacity": 60, "label": "第9场·金泽镇",
             "address": "上海市青浦区金泽镇社区文化活动中心"},
        ],
        "checkpoints": ["入口"],
        "tallies": [],
        "status": "published",
    },
]


def station(spec: str | tuple[str, str, str]) -> tuple[str, str, str]:
    """(name, address, hours) of a checkpoint in the programme: a name alone, or all three."""
    return (spec, "", "") if isinstance(spec, str) else spec
