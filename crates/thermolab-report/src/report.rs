//! The self-contained HTML report of a run: inline SVG plots, tables, no external fetches.

use std::fmt::Write;

/// An HTML report being assembled.
#[derive(Debug, Default)]
pub struct Report {
    title: String,
    head: String,
    settings: String,
    body: String,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Report {
    /// A report with a page title.
    pub fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            head: String::new(),
            settings: String::new(),
            body: String::new(),
        }
    }
    /// The headline result, shown first, under the title.
    pub fn headline(&mut self, text: &str) {
        let _ = writeln!(self.head, "<p class=\"headline\">{}</p>", esc(text));
    }
    /// A warning, shown first with the headline.
    pub fn warning(&mut self, text: &str) {
        let _ = writeln!(self.head, "<p class=\"warning\">⚠ {}</p>", esc(text));
    }
    /// What was run: a table of settings, shown after the headline.
    pub fn settings(&mut self, rows: &[(&str, String)]) {
        self.settings
            .push_str("<table class=\"settings\"><tbody>\n");
        for (k, v) in rows {
            let _ = writeln!(
                self.settings,
                "<tr><th>{}</th><td>{}</td></tr>",
                esc(k),
                esc(v)
            );
        }
        self.settings.push_str("</tbody></table>\n");
    }
    /// Whether a settings table was given.
    pub fn has_settings(&self) -> bool {
        !self.settings.is_empty()
    }
    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.body, "<h2>{}</h2>", esc(text));
    }
    /// A paragraph of plain text.
    pub fn para(&mut self, text: &str) {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
    }
    /// A table with a header row.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.body.push_str("<table><thead><tr>");
        for h in header {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead><tbody>\n");
        for r in rows {
            self.body.push_str("<tr>");
            for c in r {
                let _ = write!(self.body, "<td>{}</td>", esc(c));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table>\n");
    }
    /// An inline SVG figure with a caption naming its files.
    pub fn figure(&mut self, svg: &str, name: &str, caption: &str) {
        let start = svg.find("<svg").unwrap_or(0);
        let _ = writeln!(
            self.body,
            "<figure>{}<figcaption>{} (<a href=\"{name}.svg\">SVG</a>, <a href=\"{name}.png\">PNG</a>)</figcaption></figure>",
            &svg[start..],
            esc(caption)
        );
    }
    /// Raw HTML (callers escape any text they insert).
    pub fn raw(&mut self, html: &str) {
        self.body.push_str(html);
        self.body.push('\n');
    }
    /// The finished page.
    pub fn html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\
body{{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}}\
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:4px 10px;text-align:left}}\
th{{background:#eee}}figure{{margin:1em 0}}figure svg{{max-width:100%;height:auto}}\
figcaption{{color:#555;font-size:90%}}code{{background:#f4f4f4;padding:1px 4px}}\
.headline{{font-size:120%;font-weight:bold}}.warning{{background:#fff3cd;border:1px solid #e0b000;padding:6px 10px}}</style></head>\n\
<body><h1>{t}</h1>\n{h}{s}{b}<hr><p><small>thermolab {v}</small></p></body></html>\n",
            t = esc(&self.title),
            h = self.head,
            s = self.settings,
            b = self.body,
            v = thermolab::VERSION
        )
    }
}

/// A PNG file as a `data:` URI, so that the report shows it wherever it is copied.
pub fn png_data_uri(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    Ok(format!("data:image/png;base64,{}", base64(&bytes)))
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(raw.as_bytes()), enc);
        }
    }
}
