//! A file for `zaitaku admin insured import`: the import's CSV reader, its
//! header row, then each line parsed into a qualification record and keyed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zaitaku::setup::import::insured::InsuredImport;
use zaitaku::setup::import::pipeline::{self, Importer};

fuzz_target!(|file: &[u8]| {
    let mut reader = pipeline::reader(file);
    let Ok(header) = pipeline::header_row(&mut reader, "fuzz") else {
        return;
    };
    let Ok(import) = InsuredImport::new(&header) else {
        return;
    };
    for record in reader.records().flatten() {
        if let Ok(row) = import.parse(&record) {
            let _ = import.key(&row);
        }
    }
});
