//! The posted forms that carry more than a CSRF token, as their handlers read
//! them: axum's `Form` extractor into these types, then their methods into
//! domain values. Public for the fuzz targets (`fuzz/`), which run the same two
//! steps on arbitrary bodies.

pub use crate::console::{CodeForm, EnrolForm, LoginForm, RevokeForm, SettingsForm};
pub use crate::devices::activation::ActivationForm;
pub use crate::routes::{ConfirmForm, PostedAnswers, ReaderForm, StartForm};
