//! Zaitaku's domain: the codes, people and consents the service reasons about, as
//! types that can only hold valid values. Parsing happens here, once, at the edge;
//! nothing raw travels inward. No I/O.

pub mod auth_method;
pub mod check_digit;
pub mod codes;
pub mod consent;
pub mod device;
pub mod flow;
pub mod institution;
pub mod institution_code;
pub mod insurer_number;
pub mod japan_time;
pub mod loopback;
pub mod medical_record;
pub mod qualification;
pub mod staff;

pub use auth_method::AuthMethod;
pub use codes::{
    BurdenRatio, ConsentItem, ConsentState, EPrescriptionUsage, PrescriptionForm,
    QualificationValidity, Relationship, RevocationReason, Sex, UnknownCode,
};
pub use consent::{
    CardAuthentication, Channel, ChoiceError, Consent, ConsentChange, ConsentChoices, ConsentId,
    ConsentStatus,
};
pub use device::{
    ActivationCode, ActivationCodeError, DeviceId, DeviceName, DeviceNameError, FlowsFrom,
};
pub use flow::{FailureReason, FlowStep, Purpose, ReviseError, StepError, Viewed};
pub use institution::{Institution, InstitutionId, InstitutionKind, UrlToken};
pub use institution_code::{InstitutionCode, InstitutionCodeError, ScoreTable};
pub use insurer_number::{InsurerNumber, InsurerNumberError};
pub use japan_time::{JST, day_in_japan, today_in_japan};
pub use loopback::{is_loopback_host, is_loopback_ip};
pub use medical_record::{MedicalRecord, RecordError, RecordField, RecordKind};
pub use qualification::{
    ElderlyCertificate, InsuredPerson, LimitCertificate, PersonId, Qualification,
    QualificationStatus,
};
pub use staff::{
    LoginName, LoginNameError, LoginOutcome, NewPassword, PasswordError, StaffId, StaffRole,
    StaffStatus,
};
