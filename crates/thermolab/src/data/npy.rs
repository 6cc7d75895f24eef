//! NumPy's `.npy` format (versions 1–3): the header (a Python dict literal naming the dtype, the
//! order and the shape) and numeric data of one dtype, read into `f32`.
//!
//! Only what image and weight files need: `u1`, `i4`, `i8`, `f4`, `f8` in either byte order,
//! C order.

/// An NPY file's header: dtype descriptor (`<f8`, `|u1`, …), shape, and where the data start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NpyHeader {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    pub data_start: usize,
}

/// The value of `key` in the header dict: the text after `'key':` up to the next top-level
/// comma or the closing brace.
fn field<'a>(dict: &'a str, key: &str) -> Option<&'a str> {
    let at = [format!("'{key}'"), format!("\"{key}\"")]
        .iter()
        .find_map(|k| dict.find(k.as_str()).map(|i| i + k.len()))?;
    let rest = dict[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    Some(rest.trim())
}

/// Parses the magic string, version and header of `bytes`.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<NpyHeader, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a valid NPY file (no \\x93NUMPY magic string)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("NPY format version {v} is not supported")),
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or("the NPY header runs past the end of the file")?;
    let dict = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| "the NPY header is not text")?
        .trim();
    let descr = field(dict, "descr")
        .ok_or("the NPY header has no 'descr'")?
        .trim_matches(['\'', '"'])
        .to_string();
    let fortran_order = match field(dict, "fortran_order") {
        Some("False") => false,
        Some("True") => true,
        _ => return Err("the NPY header has no 'fortran_order' True/False".into()),
    };
    let shape_text = field(dict, "shape").ok_or("the NPY header has no 'shape'")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("the NPY shape `{shape_text}` is not a tuple"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| format!("the NPY shape `{shape_text}` is not a tuple of sizes"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NpyHeader {
        descr,
        fortran_order,
        shape,
        data_start: end,
    })
}

/// The data of an NPY file with header `h`, as `f32` (`u1` scaled to [0, 1]).
pub(crate) fn read_values(bytes: &[u8], h: &NpyHeader) -> Result<Vec<f32>, String> {
    let (order, kind) = match h.descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c, &h.descr[1..]),
        _ => ('=', h.descr.as_str()),
    };
    let big = order == '>';
    let size = match kind {
        "u1" => 1,
        "i4" | "f4" => 4,
        "i8" | "f8" => 8,
        _ => {
            return Err(format!(
                "unsupported NPY dtype `{}` (use u1, i4, i8, f4 or f8)",
                h.descr
            ))
        }
    };
    let count = h
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("the NPY shape is too large")?;
    let data = &bytes[h.data_start..];
    let need = count
        .checked_mul(size)
        .ok_or("the NPY shape is too large")?;
    if data.len() < need {
        return Err(format!(
            "the NPY data are truncated: {} bytes for {count} values of `{}` ({need} bytes)",
            data.len(),
            h.descr
        ));
    }
    let word = |c: &[u8]| -> [u8; 8] {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        if big {
            w[..c.len()].reverse();
        }
        w
    };
    Ok(data[..need]
        .chunks_exact(size)
        .map(|c| {
            let w = word(c);
            match kind {
                "u1" => c[0] as f32 / 255.0,
                "i4" => i32::from_le_bytes([w[0], w[1], w[2], w[3]]) as f32,
                "f4" => f32::from_le_bytes([w[0], w[1], w[2], w[3]]),
                "i8" => i64::from_le_bytes(w) as f32,
                _ => f64::from_le_bytes(w) as f32,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut h = dict.to_string();
        h.push_str(&" ".repeat(64 - (10 + h.len() + 1) % 64));
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn headers_and_data_of_every_supported_dtype() {
        let b = file(
            "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }",
            &[0, 0, 0, 7, 255, 255, 255, 254],
        );
        let h = parse_header(&b).unwrap();
        assert_eq!((h.descr.as_str(), &h.shape[..]), (">i4", &[2usize][..]));
        assert_eq!(read_values(&b, &h).unwrap(), [7.0, -2.0]);
        let b = file(
            "{'shape': (1, 1), 'fortran_order': False, 'descr': '<f8'}",
            &1.5f64.to_le_bytes(),
        );
        let h = parse_header(&b).unwrap();
        assert_eq!(h.shape, [1, 1]);
        assert_eq!(read_values(&b, &h).unwrap(), [1.5]);
        let b = file(
            "{'descr': '|u1', 'fortran_order': True, 'shape': ()}",
            &[255],
        );
        let h = parse_header(&b).unwrap();
        assert!(h.fortran_order && h.shape.is_empty());
        assert_eq!(read_values(&b, &h).unwrap(), [1.0]);
        let short = file(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
            &[0; 8],
        );
        let e = read_values(&short, &parse_header(&short).unwrap()).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        assert!(parse_header(b"\x93NUMPY\x01\x00\xff\xff{").is_err());
    }
}
