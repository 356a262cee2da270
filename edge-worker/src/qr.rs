//! QR codes of survey links as SVG: vector, so a receipt printer or a poster prints every
//! module sharp at any size. The modules of each row are drawn as runs in one `<path>`, on a
//! white square with the four-module quiet zone the standard asks for. Encoding is Nayuki's
//! `qrcodegen`; this module owns only the drawing.
use std::fmt::Write;

use qrcodegen::{QrCode, QrCodeEcc};

use crate::error::{ApiError, ApiResult};

/// Modules of light margin around the code (ISO/IEC 18004 asks for 4).
const QUIET: i32 = 4;

/// Pixels per module of the `width`/`height` the SVG states (it scales to any size).
const PX: i32 = 6;

/// The QR code of `text` (a URL) as an SVG document. Error correction medium (15 % of the
/// code may be smudged or folded), raised when the same version holds more; the smallest
/// version that fits.
pub fn svg(text: &str) -> ApiResult<String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium)
        .map_err(|_| ApiError::Invalid("the link is too long for a QR code".into()))?;
    Ok(draw(&code))
}

fn draw(code: &QrCode) -> String {
    let n = code.size();
    let side = n + 2 * QUIET;
    let mut path = String::with_capacity((n * n) as usize);
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !code.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && code.get_module(x, y) {
                x += 1;
            }
            // A run of dark modules: one rectangle one module high, relative moves only.
            let _ = write!(
                path,
                "M{} {}h{}v1h-{}z",
                start + QUIET,
                y + QUIET,
                x - start,
                x - start
            );
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"{w}\" height=\"{w}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>",
        w = side * PX
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dark modules an SVG of [`svg`] draws, read back from its path.
    fn modules(svg: &str) -> (usize, Vec<Vec<bool>>) {
        let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
        let side: usize = view.split(' ').next().unwrap().parse().unwrap();
        let mut grid = vec![vec![false; side]; side];
        let d = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (xy, rest) = run.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let len: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            assert_eq!(rest, format!("{len}v1h-{len}z"), "one run per rectangle");
            for cell in &mut grid[y][x..x + len] {
                *cell = true;
            }
        }
        (side, grid)
    }

    /// Decodes the drawn modules, as a phone's camera would, at 4 pixels a module.
    fn decode(svg: &str) -> String {
        let (side, grid) = modules(svg);
        let px = 4;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(side * px, side * px, |x, y| {
            if grid[y / px][x / px] {
                0
            } else {
                255
            }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one code in the picture");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn a_survey_link_reads_back_from_its_svg() {
        let url = "https://kpi.example.com/s/eyJ2IjoxLCJ0IjoiaG9hLXNlbi1zcGEiLCJrIjoibnBzIiwicyI6MTAsImwiOiJhYmNkZWZnaGlqa2xtbm9wIiwiYyI6InphbG8iLCJnIjoidmkiLCJlIjoxNzk1NDU2MDAwLCJvIjo1MDB9.x3Jq6yH1rYt2Cw6jXbq2k0mC8qQ4y1wqS9yK7QpNc0E";
        let svg = svg(url).unwrap();
        assert_eq!(decode(&svg), url);
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert_eq!(svg.matches("<path").count(), 1, "one path for every module");
        // The quiet zone: the four outer rows and columns stay light.
        let (side, grid) = modules(&svg);
        let margin = |i: usize| i < 4 || i >= side - 4;
        for (y, row) in grid.iter().enumerate() {
            for (x, dark) in row.iter().enumerate() {
                assert!(
                    !(*dark && (margin(x) || margin(y))),
                    "({x}, {y}) is in the quiet zone"
                );
            }
        }
    }

    #[test]
    fn too_long_a_text_is_refused_not_a_panic() {
        assert!(matches!(svg(&"x".repeat(3000)), Err(ApiError::Invalid(_))));
    }
}
