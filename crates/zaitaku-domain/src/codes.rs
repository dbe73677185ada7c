//! The national interface's small code lists (domain notes §3–§5), each a closed
//! enum with its wire code and its label as the manual writes it.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: unknown code {code:?}")]
pub struct UnknownCode {
    pub what: &'static str,
    pub code: String,
}

/// Declares a code list: variants with their wire code and Japanese label.
macro_rules! code_list {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The label shown on screens: the manual's wording where it has one.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(code: &str) -> Result<Self, UnknownCode> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { what: $what, code: code.chars().take(20).collect() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

code_list! {
    /// What a patient may consent to share with the institution.
    ConsentItem, "consent item" {
        Medication = "YZK", "薬剤情報";
        Clinical = "SRJ", "診療情報";
        HealthCheckup = "TKK", "特定健診情報";
        Surgery = "SHJ", "手術情報";
        SpecificDiseaseCertificate = "TSR", "特定疾病療養受療証";
    }
}

code_list! {
    /// State of one consent item.
    ConsentState, "consent state" {
        NotConsented = "0", "同意なし";
        Consented = "1", "同意あり";
        Expired = "2", "同意有効期限切れ";
    }
}

code_list! {
    /// Why a consent ended before its time.
    RevocationReason, "revocation reason" {
        ByInstitution = "1", "医療機関等による取消し";
        ByPatient = "2", "患者による取消し";
        ChangeOfUse = "3", "利用変更による取消し";
    }
}

code_list! {
    /// The patient's choice of prescription form.
    PrescriptionForm, "prescription form" {
        Electronic = "1", "電子処方箋";
        Paper = "2", "紙の処方箋";
    }
}

code_list! {
    /// The institution's 電子処方箋利用区分.
    EPrescriptionUsage, "e-prescription usage" {
        NotUsed = "0", "利用しない";
        ElectronicOnly = "1", "電子処方箋のみ";
        Both = "2", "電子処方箋・紙の処方箋";
        PaperOnly = "3", "紙の処方箋のみ";
    }
}

code_list! {
    /// Whether a qualification is in force.
    QualificationValidity, "qualification validity" {
        Valid = "1", "有効";
        Invalid = "2", "無効";
        InvalidWithNewQualification = "3", "無効（新しい資格あり）";
        NoQualification = "4", "該当資格なし";
    }
}

code_list! {
    /// 本人・家族の別.
    Relationship, "insured relationship" {
        Insured = "1", "本人";
        Dependent = "2", "家族";
    }
}

code_list! {
    /// 性別 as the qualification record carries it.
    Sex, "sex" {
        Male = "1", "男";
        Female = "2", "女";
        Unset = "3", "未設定";
    }
}

/// 一部負担金割合: three digits in tenths of a percent-of-ten ("030" = 3割).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BurdenRatio(u16);

impl BurdenRatio {
    pub fn parse(code: &str) -> Result<Self, UnknownCode> {
        let bad = || UnknownCode {
            what: "burden ratio",
            code: code.chars().take(20).collect(),
        };
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let value: u16 = code.parse().map_err(|_| bad())?;
        if value > 100 {
            return Err(bad());
        }
        Ok(BurdenRatio(value))
    }

    pub fn code(self) -> String {
        format!("{:03}", self.0)
    }

    /// The ratio as patients read it: "3割", or "2.5割" where it is not whole.
    pub fn label(self) -> String {
        if self.0.is_multiple_of(10) {
            format!("{}割", self.0 / 10)
        } else {
            format!("{}.{}割", self.0 / 10, self.0 % 10)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_unknown_codes_are_refused() {
        for item in ConsentItem::ALL {
            assert_eq!(ConsentItem::parse(item.code()), Ok(*item));
        }
        for form in PrescriptionForm::ALL {
            assert_eq!(PrescriptionForm::parse(form.code()), Ok(*form));
        }
        assert_eq!(ConsentItem::parse("YZK").unwrap().label(), "薬剤情報");
        assert!(ConsentItem::parse("yzk").is_err());
        assert!(ConsentState::parse("3").is_err());
        assert!(EPrescriptionUsage::parse("4").is_err());
        assert_eq!(
            QualificationValidity::parse("3"),
            Ok(QualificationValidity::InvalidWithNewQualification)
        );
    }

    #[test]
    fn burden_ratio_reads_like_the_card_terminal() {
        assert_eq!(BurdenRatio::parse("030").unwrap().label(), "3割");
        assert_eq!(BurdenRatio::parse("010").unwrap().label(), "1割");
        assert_eq!(BurdenRatio::parse("025").unwrap().label(), "2.5割");
        assert_eq!(BurdenRatio::parse("030").unwrap().code(), "030");
        for bad in ["30", "0300", "abc", "101", ""] {
            assert!(BurdenRatio::parse(bad).is_err(), "{bad}");
        }
    }
}
