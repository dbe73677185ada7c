//! The demo's fictitious institutions, insured persons and cards: one of each
//! qualification state and each way a card authentication can end.

use time::Date;
use time::macros::date;
use zaitaku_domain::{
    BurdenRatio, ConsentItem, EPrescriptionUsage, InsurerNumber, QualificationValidity,
    Relationship, Sex, qualification::Qualification,
};

pub struct DemoInstitution {
    pub code: &'static str,
    pub name: &'static str,
    pub items: &'static [ConsentItem],
    pub e_prescription: EPrescriptionUsage,
}

const THREE_ITEMS: &[ConsentItem] = &[
    ConsentItem::Medication,
    ConsentItem::Clinical,
    ConsentItem::HealthCheckup,
];

pub const INSTITUTIONS: &[DemoInstitution] = &[
    DemoInstitution {
        code: "1310123458",
        name: "在宅ひまわりクリニック",
        items: THREE_ITEMS,
        e_prescription: EPrescriptionUsage::Both,
    },
    DemoInstitution {
        code: "1310234560",
        name: "みどり在宅診療所",
        items: THREE_ITEMS,
        e_prescription: EPrescriptionUsage::NotUsed,
    },
    DemoInstitution {
        code: "1340112349",
        name: "さくら薬局",
        items: THREE_ITEMS,
        e_prescription: EPrescriptionUsage::NotUsed,
    },
    DemoInstitution {
        code: "1360100125",
        name: "あおぞら訪問看護ステーション",
        items: THREE_ITEMS,
        e_prescription: EPrescriptionUsage::NotUsed,
    },
];

/// What is special about a demo card's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certificate {
    Valid,
    Expired,
    Revoked,
}

pub struct DemoPerson {
    /// Card file name and form value.
    pub id: &'static str,
    pub label: &'static str,
    pub pin: &'static str,
    /// Whether the card is registered for health-insurance use (linked).
    pub linked: bool,
    pub certificate: Certificate,
    /// Three wrong PINs already typed.
    pub blocked: bool,
    pub qualification: fn() -> Qualification,
}

pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "yamada",
        label: "山田 太郎（有効・3割）",
        pin: "1234",
        linked: true,
        certificate: Certificate::Valid,
        blocked: false,
        qualification: yamada,
    },
    DemoPerson {
        id: "sato",
        label: "佐藤 花子（有効・1割・後期高齢者）",
        pin: "2345",
        linked: true,
        certificate: Certificate::Valid,
        blocked: false,
        qualification: sato,
    },
    DemoPerson {
        id: "suzuki",
        label: "鈴木 一郎（資格喪失）",
        pin: "3456",
        linked: true,
        certificate: Certificate::Valid,
        blocked: false,
        qualification: suzuki,
    },
    DemoPerson {
        id: "tanaka",
        label: "田中 次郎（健康保険証利用の登録なし）",
        pin: "4567",
        linked: false,
        certificate: Certificate::Valid,
        blocked: false,
        qualification: tanaka,
    },
    DemoPerson {
        id: "kobayashi",
        label: "小林 さくら（該当資格なし）",
        pin: "5678",
        linked: true,
        certificate: Certificate::Valid,
        blocked: false,
        qualification: kobayashi,
    },
    DemoPerson {
        id: "takahashi",
        label: "高橋 三郎（暗証番号ロック中）",
        pin: "6789",
        linked: true,
        certificate: Certificate::Valid,
        blocked: true,
        qualification: takahashi,
    },
    DemoPerson {
        id: "ito",
        label: "伊藤 美咲（電子証明書の有効期限切れ）",
        pin: "7890",
        linked: true,
        certificate: Certificate::Expired,
        blocked: false,
        qualification: ito,
    },
    DemoPerson {
        id: "watanabe",
        label: "渡辺 健（電子証明書失効）",
        pin: "8901",
        linked: true,
        certificate: Certificate::Revoked,
        blocked: false,
        qualification: watanabe,
    },
];

struct Base {
    insurer: &'static str,
    insurer_name: &'static str,
    symbol: Option<&'static str>,
    number: &'static str,
    name: &'static str,
    kana: &'static str,
    sex: Sex,
    birth: Date,
    ratio: &'static str,
}

fn qualification(b: Base) -> Qualification {
    Qualification {
        insurer_number: InsurerNumber::parse(b.insurer).expect("demo insurer numbers are valid"),
        insurer_name: b.insurer_name.to_owned(),
        symbol: b.symbol.map(str::to_owned),
        number: b.number.to_owned(),
        branch: Some("00".to_owned()),
        relationship: Relationship::Insured,
        name: b.name.to_owned(),
        name_kana: b.kana.to_owned(),
        sex: b.sex,
        birth_date: b.birth,
        address: "東京都千代田区霞が関一丁目".to_owned(),
        postal_code: "100-0013".to_owned(),
        acquired_on: date!(2020 - 04 - 01),
        lost_on: None,
        loss_reason: None,
        valid_from: Some(date!(2020 - 04 - 01)),
        valid_until: None,
        burden_ratio: Some(BurdenRatio::parse(b.ratio).expect("demo ratios are valid")),
        elderly: None,
        limit: None,
        specific_disease: None,
        validity: QualificationValidity::Valid,
    }
}

const KYOKAI: &str = "全国健康保険協会東京支部";

fn yamada() -> Qualification {
    qualification(Base {
        insurer: "01130012",
        insurer_name: KYOKAI,
        symbol: Some("1234"),
        number: "5678",
        name: "山田 太郎",
        kana: "ヤマダ タロウ",
        sex: Sex::Male,
        birth: date!(1960 - 05 - 10),
        ratio: "030",
    })
}

fn sato() -> Qualification {
    qualification(Base {
        insurer: "39131016",
        insurer_name: "東京都後期高齢者医療広域連合",
        symbol: None,
        number: "00012345",
        name: "佐藤 花子",
        kana: "サトウ ハナコ",
        sex: Sex::Female,
        birth: date!(1940 - 02 - 20),
        ratio: "010",
    })
}

fn suzuki() -> Qualification {
    let mut q = qualification(Base {
        insurer: "138008",
        insurer_name: "千代田区国民健康保険",
        symbol: Some("千01"),
        number: "20345",
        name: "鈴木 一郎",
        kana: "スズキ イチロウ",
        sex: Sex::Male,
        birth: date!(1955 - 11 - 03),
        ratio: "030",
    });
    q.lost_on = Some(date!(2026 - 09 - 30));
    q.loss_reason = Some("転出".to_owned());
    q.validity = QualificationValidity::Invalid;
    q
}

fn tanaka() -> Qualification {
    qualification(Base {
        insurer: "06130488",
        insurer_name: "霞が関健康保険組合",
        symbol: Some("77"),
        number: "1001",
        name: "田中 次郎",
        kana: "タナカ ジロウ",
        sex: Sex::Male,
        birth: date!(1975 - 07 - 07),
        ratio: "030",
    })
}

fn kobayashi() -> Qualification {
    let mut q = qualification(Base {
        insurer: "01130012",
        insurer_name: KYOKAI,
        symbol: Some("1234"),
        number: "9012",
        name: "小林 さくら",
        kana: "コバヤシ サクラ",
        sex: Sex::Female,
        birth: date!(1988 - 03 - 15),
        ratio: "030",
    });
    q.validity = QualificationValidity::NoQualification;
    q
}

fn takahashi() -> Qualification {
    qualification(Base {
        insurer: "01130012",
        insurer_name: KYOKAI,
        symbol: Some("1234"),
        number: "3456",
        name: "高橋 三郎",
        kana: "タカハシ サブロウ",
        sex: Sex::Male,
        birth: date!(1950 - 08 - 21),
        ratio: "020",
    })
}

fn ito() -> Qualification {
    qualification(Base {
        insurer: "06130488",
        insurer_name: "霞が関健康保険組合",
        symbol: Some("77"),
        number: "1002",
        name: "伊藤 美咲",
        kana: "イトウ ミサキ",
        sex: Sex::Female,
        birth: date!(1982 - 12 - 01),
        ratio: "030",
    })
}

fn watanabe() -> Qualification {
    qualification(Base {
        insurer: "138008",
        insurer_name: "千代田区国民健康保険",
        symbol: Some("千01"),
        number: "20346",
        name: "渡辺 健",
        kana: "ワタナベ ケン",
        sex: Sex::Male,
        birth: date!(1968 - 06 - 30),
        ratio: "030",
    })
}
