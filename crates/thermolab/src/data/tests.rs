//! Tests of the data loaders: good files load, each kind of bad file names file and line.

use super::*;
use std::io::Write;
use std::path::Path;

fn write_tmp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("thermolab-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

#[test]
fn loads_with_header_names_and_positions() {
    let p = write_tmp("ok.csv", "a,b,y\n1,2,3\n4,5,6\n\n");
    let d = load_csv(&p, &CsvSpec::default()).unwrap();
    assert_eq!((d.n, d.n_inputs, d.n_targets), (2, 2, 1));
    assert_eq!(d.x, vec![1.0, 2.0, 4.0, 5.0]);
    assert_eq!(d.y, vec![3.0, 6.0]);
    assert_eq!(d.input_names, vec!["a", "b"]);
    let spec = CsvSpec {
        inputs: Columns::Named(vec!["y".into()]),
        targets: Columns::Named(vec!["1".into()]),
        ..Default::default()
    };
    let d = load_csv(&p, &spec).unwrap();
    assert_eq!(d.x, vec![3.0, 6.0]);
    assert_eq!(d.y, vec![1.0, 4.0]);
    let p = write_tmp("nohdr.csv", "1,2\n3,4\n");
    let d = load_csv(&p, &CsvSpec::default()).unwrap();
    assert_eq!(
        (d.n, d.x.clone(), d.y.clone()),
        (2, vec![1.0, 3.0], vec![2.0, 4.0])
    );
}

#[test]
fn bad_files_name_file_line_and_column() {
    let cases = [
        (
            "ragged.csv",
            "a,b\n1,2\n3\n",
            "ragged.csv:3: expected 2 fields, found 1",
        ),
        (
            "word.csv",
            "a,b\n1,2\n3,x\n",
            "word.csv:3: column b: `x` is not a number",
        ),
        (
            "nan.csv",
            "a,b\n1,NaN\n",
            "nan.csv:2: column b: value `NaN` is not finite",
        ),
        ("empty.csv", "", "empty.csv: no data rows"),
        ("hdronly.csv", "a,b\n", "hdronly.csv: no data rows"),
    ];
    for (name, text, want) in cases {
        let p = write_tmp(name, text);
        let msg = load_csv(&p, &CsvSpec::default()).unwrap_err().to_string();
        assert!(msg.contains(want), "{name}: {msg}");
        assert!(!msg.contains('\n'));
    }
    let p = write_tmp("cols.csv", "a,b\n1,2\n");
    let spec = CsvSpec {
        targets: Columns::Named(vec!["zz".into()]),
        ..Default::default()
    };
    let msg = load_csv(&p, &spec).unwrap_err().to_string();
    assert!(msg.contains("no column `zz`"), "{msg}");
    let msg = load_csv(Path::new("/nonexistent/x.csv"), &CsvSpec::default())
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("/nonexistent/x.csv:"), "{msg}");
}

#[test]
fn sin_data_is_seeded_and_spans_two_periods() {
    let a = sin_data(200, 0.1, 5);
    assert_eq!(a, sin_data(200, 0.1, 5));
    assert_ne!(a.y, sin_data(200, 0.1, 6).y);
    assert!((a.x[0] + 2.0 * std::f64::consts::PI).abs() < 1e-15);
    assert!((a.x[199] - 2.0 * std::f64::consts::PI).abs() < 1e-12);
    let resid: f64 =
        a.x.iter()
            .zip(&a.y)
            .map(|(x, y)| (y - x.sin()).powi(2))
            .sum::<f64>()
            / 200.0;
    assert!(
        (resid.sqrt() - 0.1).abs() < 0.03,
        "noise sd {}",
        resid.sqrt()
    );
}
