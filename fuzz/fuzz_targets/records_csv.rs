//! A file for `zaitaku admin records import`: the import's CSV reader, its
//! header row, then each line parsed into a medical record and keyed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::{Date, Month};
use zaitaku::setup::import::pipeline::{self, Importer};
use zaitaku::setup::import::records::RecordsImport;

fuzz_target!(|file: &[u8]| {
    let mut reader = pipeline::reader(file);
    let Ok(header) = pipeline::header_row(&mut reader, "fuzz") else {
        return;
    };
    let today = Date::from_calendar_date(2026, Month::December, 7).expect("a day");
    let Ok(import) = RecordsImport::new(&header, today) else {
        return;
    };
    for record in reader.records().flatten() {
        if let Ok(row) = import.parse(&record) {
            let _ = import.key(&row);
        }
    }
});
