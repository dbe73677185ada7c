//! The CSV imports: the pipeline (`pipeline.rs`), the header rule both files
//! follow (`header.rs`), and one file pair per kind of import: how a line
//! parses (`insured_csv.rs`, `records_csv.rs`) and how it is written
//! (`insured.rs`, `records.rs`).

pub mod header;
pub mod insured;
pub mod insured_csv;
pub mod pipeline;
pub mod records;
pub mod records_csv;
