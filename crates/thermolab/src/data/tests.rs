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
    let err = load_csv(Path::new("/nonexistent/x.csv"), &CsvSpec::default()).unwrap_err();
    // The message names the file; the cause is kept as the error's source.
    assert_eq!(err.to_string(), "/nonexistent/x.csv");
    let cause = std::error::Error::source(&err).expect("an I/O cause");
    assert!(cause.to_string().contains("No such file"), "{cause}");
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

fn write_bytes(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("thermolab-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn idx_images(n: u32, r: u32, c: u32, fill: impl Fn(usize) -> u8) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, r, c] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend((0..(n * r * c) as usize).map(fill));
    b
}

#[test]
fn idx_images_load_plain_and_gzipped() {
    let bytes = idx_images(3, 2, 4, |i| (i * 10) as u8);
    let plain = write_bytes("imgs-idx3-ubyte", &bytes);
    let set = load_idx_images(&plain).unwrap();
    assert_eq!((set.n, set.rows, set.cols), (3, 2, 4));
    assert_eq!(set.pixels[5], 50.0 / 255.0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let zipped = write_bytes("imgs-idx3-ubyte.gz", &gz.finish().unwrap());
    assert_eq!(load_idx_images(&zipped).unwrap(), set);
    assert_eq!(load_images(&zipped).unwrap(), set);
    let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 3];
    labels.extend([7, 1, 4]);
    assert_eq!(
        load_idx_labels(&write_bytes("l-idx1-ubyte", &labels)).unwrap(),
        vec![7, 1, 4]
    );
}

#[test]
fn bad_idx_files_are_named_and_explained() {
    let mut bytes = idx_images(2, 2, 2, |_| 1);
    bytes[2] = 0x0d;
    let e = load_idx_images(&write_bytes("float-idx", &bytes))
        .unwrap_err()
        .to_string();
    assert!(e.contains("float-idx") && e.contains("element type"), "{e}");
    let e = load_idx_images(&write_bytes("magic-idx", b"\x12\x34\x08\x03rest"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("magic-idx") && e.contains("magic number"), "{e}");
    let good = idx_images(4, 3, 3, |_| 0);
    let e = load_idx_images(&write_bytes("cut-idx", &good[..good.len() - 5]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cut-idx") && e.contains("truncated"), "{e}");
    let e = load_idx_labels(&write_bytes("imgs-as-labels", &good))
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 dimensions, expected 1"), "{e}");
    let mut gz = b"\x1f\x8b\x08\x00garbage".to_vec();
    gz.extend([0u8; 8]);
    let e = load_idx_images(&write_bytes("bad.gz", &gz))
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.gz") && e.contains("gzip"), "{e}");
}

fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn npy_arrays_load_by_dtype_and_shape() {
    let f8: Vec<u8> = [0.5f64, 1.0, 0.0, 0.25, 1.0, 0.75]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let set = load_images(&write_bytes("x.npy", &npy_bytes("<f8", &[2, 3], &f8))).unwrap();
    assert_eq!((set.n, set.rows, set.cols), (2, 1, 3));
    assert_eq!(set.pixels, vec![0.5, 1.0, 0.0, 0.25, 1.0, 0.75]);
    let u1: Vec<u8> = (0..8).map(|i| i * 30).collect();
    let set = load_images(&write_bytes("u.npy", &npy_bytes("|u1", &[2, 2, 2], &u1))).unwrap();
    assert_eq!((set.n, set.rows, set.cols), (2, 2, 2));
    assert_eq!(set.pixels[1], 30.0 / 255.0);
    let e = load_images(&write_bytes(
        "c.npy",
        &npy_bytes("<c16", &[1, 1], &[0u8; 16]),
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("c.npy") && e.contains("dtype"), "{e}");
    let nan: Vec<u8> = [1.0f32, f32::NAN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let e = load_images(&write_bytes("n.npy", &npy_bytes("<f4", &[1, 2], &nan)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("n.npy") && e.contains("not finite"), "{e}");
    let e = load_images(&write_bytes("junk.npy", b"not an npy file"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("junk.npy"), "{e}");
}

#[test]
fn csv_images_and_builtin_digits() {
    let p = write_tmp("img.csv", "a,b,c,d,label\n0,1,0.5,1,3\n1,0,0,1,7\n");
    let set = load_images(&p).unwrap();
    assert_eq!((set.n, set.rows, set.cols), (2, 2, 2));
    assert_eq!(set.labels, Some(vec![3, 7]));
    let p = write_tmp("plain.csv", "0,1,0\n1,1,1\n");
    let set = load_images(&p).unwrap();
    assert_eq!((set.n, set.width(), set.labels.clone()), (2, 3, None));
    let d = digits();
    assert_eq!((d.n, d.rows, d.cols), (1797, 8, 8));
    assert!(d.pixels.iter().all(|&p| (0.0..=1.0).contains(&p)));
    let mut b = d.pixels.clone();
    binarize(&mut b, Binarize::Threshold(0.5));
    // 9/16 is the smallest level above one half.
    assert_eq!(
        b.iter().filter(|&&x| x == 1.0).count(),
        d.pixels.iter().filter(|&&x| x >= 9.0 / 16.0).count()
    );
    let mut s = vec![0.3f32; 20_000];
    binarize(&mut s, Binarize::Sample(1));
    let ones = s.iter().filter(|&&x| x == 1.0).count() as f64 / 20_000.0;
    assert!((ones - 0.3).abs() < 4.0 * (0.21f64 / 20_000.0).sqrt());
}

#[test]
fn mnist_loads_from_the_shared_data_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !dir.join("t10k-images-idx3-ubyte.gz").exists() {
        eprintln!("skipped: no MNIST at {}", dir.display());
        return;
    }
    let t = mnist(&dir, MnistSplit::Test).unwrap();
    assert_eq!((t.n, t.rows, t.cols), (10_000, 28, 28));
    assert_eq!(t.labels.as_ref().unwrap()[..5], [7, 2, 1, 0, 4]);
}
