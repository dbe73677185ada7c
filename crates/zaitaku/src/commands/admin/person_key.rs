//! An insured person named on the command line by their card's key (保険者番号,
//! 記号, 番号, 枝番), as `admin card link` and `admin person …` take it.

use crate::setup::CliError;
use zaitaku_domain::InsurerNumber;
use zaitaku_store::PersonKey;

/// The key from the options' values: an empty symbol or branch is none.
pub fn person_key(
    insurer_number: &str,
    symbol: Option<String>,
    number: String,
    branch: Option<String>,
) -> Result<PersonKey, CliError> {
    Ok(PersonKey {
        insurer_number: InsurerNumber::parse(insurer_number)
            .map_err(|e| format!("--insurer-number {insurer_number:?}: {e}"))?,
        symbol: symbol.filter(|s| !s.is_empty()),
        number,
        branch: branch.filter(|s| !s.is_empty()),
    })
}
