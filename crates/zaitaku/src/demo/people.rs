//! The demo's fictitious institutions, insured persons and cards: one of each
//! qualification state and each way a card authentication can end. The
//! persons' qualification records are in `insured.csv`, their medical records
//! in `records.csv`.

use zaitaku_card::keys::KeyKind;
use zaitaku_domain::{ConsentItem, EPrescriptionUsage, InsurerNumber};
use zaitaku_store::PersonKey;

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
    /// The card's key: RSA-2048 (today's card, under the demo's RSA root) or P-384
    /// (the next generation, under its own P-384 root).
    pub card_key: KeyKind,
    /// Three wrong PINs already typed.
    pub blocked: bool,
    /// The person's line in `insured.csv` (every demo person has branch 00).
    pub key: DemoKey,
}

pub struct DemoKey {
    pub insurer_number: &'static str,
    pub symbol: Option<&'static str>,
    pub number: &'static str,
}

impl DemoPerson {
    pub fn key(&self) -> PersonKey {
        PersonKey {
            insurer_number: InsurerNumber::parse(self.key.insurer_number)
                .expect("demo insurer numbers are valid"),
            symbol: self.key.symbol.map(str::to_owned),
            number: self.key.number.to_owned(),
            branch: Some("00".to_owned()),
        }
    }
}

pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "yamada",
        label: "山田 太郎（有効・3割）",
        pin: "1234",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "01130012",
            symbol: Some("1234"),
            number: "5678",
        },
    },
    DemoPerson {
        id: "sato",
        label: "佐藤 花子（有効・1割・後期高齢者）",
        pin: "2345",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "39131016",
            symbol: None,
            number: "00012345",
        },
    },
    DemoPerson {
        id: "suzuki",
        label: "鈴木 一郎（資格喪失）",
        pin: "3456",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "138008",
            symbol: Some("千01"),
            number: "20345",
        },
    },
    DemoPerson {
        id: "tanaka",
        label: "田中 次郎（健康保険証利用の登録なし）",
        pin: "4567",
        linked: false,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "06130488",
            symbol: Some("77"),
            number: "1001",
        },
    },
    DemoPerson {
        id: "kobayashi",
        label: "小林 さくら（該当資格なし）",
        pin: "5678",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "01130012",
            symbol: Some("1234"),
            number: "9012",
        },
    },
    DemoPerson {
        id: "takahashi",
        label: "高橋 三郎（暗証番号ロック中）",
        pin: "6789",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::Rsa2048,
        blocked: true,
        key: DemoKey {
            insurer_number: "01130012",
            symbol: Some("1234"),
            number: "3456",
        },
    },
    DemoPerson {
        id: "ito",
        label: "伊藤 美咲（電子証明書の有効期限切れ）",
        pin: "7890",
        linked: true,
        certificate: Certificate::Expired,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "06130488",
            symbol: Some("77"),
            number: "1002",
        },
    },
    DemoPerson {
        id: "watanabe",
        label: "渡辺 健（電子証明書失効）",
        pin: "8901",
        linked: true,
        certificate: Certificate::Revoked,
        card_key: KeyKind::Rsa2048,
        blocked: false,
        key: DemoKey {
            insurer_number: "138008",
            symbol: Some("千01"),
            number: "20346",
        },
    },
    DemoPerson {
        id: "nakamura",
        label: "中村 陽菜（有効・3割・次世代カード）",
        pin: "9012",
        linked: true,
        certificate: Certificate::Valid,
        card_key: KeyKind::P384,
        blocked: false,
        key: DemoKey {
            insurer_number: "01130012",
            symbol: Some("1234"),
            number: "2468",
        },
    },
];
