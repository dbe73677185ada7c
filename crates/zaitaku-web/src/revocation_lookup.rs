//! The card core's revocation look-up answered from the store's index: the
//! CRLs kept for the certificate's signer and partitions, and whether they
//! list its serial. One indexed query per token, whatever the CRLs' size.

use std::time::SystemTime;
use zaitaku_card::validate::revocation::{CoveringCrl, RevocationQuery};
use zaitaku_store::{Coverage, RevocationKey, Store, StoreError};

pub async fn covering(
    store: &dyn Store,
    query: &RevocationQuery,
) -> Result<Vec<CoveringCrl>, StoreError> {
    let key = RevocationKey {
        signer_fingerprint: query.signer_fingerprint.clone(),
        partitions: query.partitions.clone(),
        serial: query.serial.clone(),
    };
    Ok(store
        .covering_crls(&key)
        .await?
        .into_iter()
        .map(covering_crl)
        .collect())
}

fn covering_crl(c: Coverage) -> CoveringCrl {
    CoveringCrl {
        issuer: c.issuer,
        partition: c.partition,
        this_update: SystemTime::from(c.this_update),
        next_update: c.next_update.map(SystemTime::from),
        revoked_at: c.revoked_at.map(SystemTime::from),
    }
}
