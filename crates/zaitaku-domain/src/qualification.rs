//! 資格情報: the qualification record of an insured person (domain notes §4), and
//! what it means for a visit on a given day.

use crate::codes::{BurdenRatio, QualificationValidity, Relationship, Sex};
use crate::insurer_number::InsurerNumber;
use time::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId(pub i64);

/// 高齢受給者証.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElderlyCertificate {
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub burden_ratio: BurdenRatio,
}

/// 限度額適用認定証.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCertificate {
    /// 区分 as printed (e.g. "ア", "一般").
    pub category: String,
    /// 適用区分 as printed.
    pub applied_category: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub insurer_number: InsurerNumber,
    pub insurer_name: String,
    /// 被保険者証記号 (absent on some cards).
    pub symbol: Option<String>,
    /// 被保険者証番号.
    pub number: String,
    /// 枝番 (two digits).
    pub branch: Option<String>,
    pub relationship: Relationship,
    pub name: String,
    pub name_kana: String,
    pub sex: Sex,
    pub birth_date: Date,
    pub address: String,
    pub postal_code: String,
    pub acquired_on: Date,
    pub lost_on: Option<Date>,
    pub loss_reason: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    pub burden_ratio: Option<BurdenRatio>,
    pub elderly: Option<ElderlyCertificate>,
    pub limit: Option<LimitCertificate>,
    /// 特定疾病療養受療証 (the disease category as printed).
    pub specific_disease: Option<String>,
    pub validity: QualificationValidity,
}

/// What a qualification check on a given day found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualificationStatus {
    Valid,
    /// 無効, or lost on or before the day (資格喪失).
    Lost {
        has_new_qualification: bool,
    },
    /// 該当資格なし.
    NotFound,
}

impl Qualification {
    pub fn status_on(&self, day: Date) -> QualificationStatus {
        match self.validity {
            QualificationValidity::NoQualification => return QualificationStatus::NotFound,
            QualificationValidity::Invalid => {
                return QualificationStatus::Lost {
                    has_new_qualification: false,
                };
            }
            QualificationValidity::InvalidWithNewQualification => {
                return QualificationStatus::Lost {
                    has_new_qualification: true,
                };
            }
            QualificationValidity::Valid => {}
        }
        let lost = self.lost_on.is_some_and(|d| d <= day)
            || self.valid_until.is_some_and(|d| d < day)
            || self.valid_from.is_some_and(|d| d > day);
        if lost {
            QualificationStatus::Lost {
                has_new_qualification: false,
            }
        } else {
            QualificationStatus::Valid
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuredPerson {
    pub id: PersonId,
    pub qualification: Qualification,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    pub(crate) fn sample() -> Qualification {
        Qualification {
            insurer_number: InsurerNumber::parse("06130488").unwrap(),
            insurer_name: "全国健康保険協会東京支部".into(),
            symbol: Some("1234".into()),
            number: "5678".into(),
            branch: Some("00".into()),
            relationship: Relationship::Insured,
            name: "山田 太郎".into(),
            name_kana: "ヤマダ タロウ".into(),
            sex: Sex::Male,
            birth_date: date!(1950 - 04 - 01),
            address: "東京都千代田区".into(),
            postal_code: "100-0001".into(),
            acquired_on: date!(2020 - 04 - 01),
            lost_on: None,
            loss_reason: None,
            valid_from: Some(date!(2020 - 04 - 01)),
            valid_until: None,
            burden_ratio: Some(BurdenRatio::parse("030").unwrap()),
            elderly: None,
            limit: None,
            specific_disease: None,
            validity: QualificationValidity::Valid,
        }
    }

    #[test]
    fn validity_code_and_dates_decide_the_status() {
        let day = date!(2026 - 11 - 24);
        let mut q = sample();
        assert_eq!(q.status_on(day), QualificationStatus::Valid);
        q.lost_on = Some(day);
        assert!(matches!(q.status_on(day), QualificationStatus::Lost { .. }));
        q.lost_on = Some(date!(2026 - 11 - 25));
        assert_eq!(q.status_on(day), QualificationStatus::Valid);
        q.validity = QualificationValidity::NoQualification;
        assert_eq!(q.status_on(day), QualificationStatus::NotFound);
        q.validity = QualificationValidity::InvalidWithNewQualification;
        assert_eq!(
            q.status_on(day),
            QualificationStatus::Lost {
                has_new_qualification: true
            }
        );
    }
}
