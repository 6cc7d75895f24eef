//! Figures and HTML reports of thermolab runs, shared by the command line (`thermolab`) and the
//! Python package (`thermolab.sample(..., out=PATH)`): plots drawn once per backend and written
//! as SVG and PNG with an embedded font ([`plots`]), a small PNG encoder ([`png`]), the
//! self-contained `report.html` ([`report`]), and the figures of a sampling run ([`sample`]).
//! A separate crate because plotting is a heavy optional back end: the library does not need it.

pub mod plots;
pub mod png;
pub mod report;
pub mod sample;
