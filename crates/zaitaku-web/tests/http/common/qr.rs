//! 2D codes as the service serves them (SVG), decoded for real with rqrr.

/// The value of `name="…"` in the first tag that starts with `tag`.
pub fn attribute(html: &str, tag: &str, name: &str) -> String {
    let start = html
        .find(tag)
        .unwrap_or_else(|| panic!("no {tag} in {html}"));
    let end = html[start..].find('>').unwrap() + start;
    let element = &html[start..end];
    let marker = format!(" {name}=\"");
    let value = element
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {element}"))
        + marker.len();
    let value_end = element[value..].find('"').unwrap() + value;
    element[value..value_end].to_owned()
}

/// A bitmap of the SVG as served, one pixel per user unit: the qrcode crate draws
/// a white `<rect>` over the whole image and every dark area as axis-aligned
/// rectangles in one `<path>` (`M x y h w v h H x V y`, repeated).
pub struct Bitmap {
    side: usize,
    dark: Vec<bool>,
}

impl Bitmap {
    pub fn of_svg(svg: &str) -> Bitmap {
        let side: usize = attribute(svg, "<svg", "width").parse().unwrap();
        let height: usize = attribute(svg, "<svg", "height").parse().unwrap();
        assert_eq!(side, height, "a square image");
        assert_eq!(
            attribute(svg, "<svg", "viewBox"),
            format!("0 0 {side} {side}")
        );
        assert_eq!(
            attribute(svg, "<rect", "fill"),
            "#ffffff",
            "a white background"
        );
        assert_eq!(attribute(svg, "<rect", "width"), side.to_string());
        assert_eq!(attribute(svg, "<path", "fill"), "#000000");
        let d = attribute(svg, "<path", "d");
        let mut bitmap = Bitmap {
            side,
            dark: vec![false; side * side],
        };
        let mut rectangles = 0;
        for subpath in d.split('M').filter(|s| !s.is_empty()) {
            let (x0, y0, x1, y1) = rectangle(subpath);
            for y in y0..y1 {
                for x in x0..x1 {
                    bitmap.dark[y * side + x] = true;
                }
            }
            rectangles += 1;
        }
        assert!(rectangles > 50, "only {rectangles} dark areas");
        bitmap
    }

    pub fn decode(&self) -> String {
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(self.side, self.side, |x, y| {
            self.dark[y * self.side + x]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one 2D code in the image");
        let (meta, text) = grids[0].decode().expect("the code decodes");
        // rqrr reports the format information's two level bits: L 01, M 00, Q 11, H 10.
        assert_eq!(meta.ecc_level, 0, "error correction M");
        text
    }

    /// Rows and columns of white around the first dark pixel, in pixels.
    pub fn margin(&self) -> usize {
        let first = |f: &dyn Fn(usize, usize) -> bool| {
            (0..self.side)
                .find(|&i| (0..self.side).any(|j| f(i, j)))
                .unwrap()
        };
        let top = first(&|y, x| self.dark[y * self.side + x]);
        let left = first(&|x, y| self.dark[y * self.side + x]);
        let bottom = first(&|y, x| self.dark[(self.side - 1 - y) * self.side + x]);
        let right = first(&|x, y| self.dark[y * self.side + (self.side - 1 - x)]);
        top.min(left).min(bottom).min(right)
    }

    /// The finder pattern's top-left square is 7 modules wide: its first dark
    /// run on the first dark row gives the module size.
    pub fn module(&self) -> usize {
        let m = self.margin();
        (m..self.side)
            .take_while(|&x| self.dark[m * self.side + x])
            .count()
            / 7
    }
}

/// One `x y h w v h H x V y` subpath as (left, top, right, bottom).
fn rectangle(subpath: &str) -> (usize, usize, usize, usize) {
    let mut numbers = Vec::new();
    let mut commands = Vec::new();
    let mut current = String::new();
    for c in subpath.chars() {
        if c.is_ascii_digit() {
            current.push(c);
        } else {
            if !current.is_empty() {
                numbers.push(current.parse::<usize>().unwrap());
                current.clear();
            }
            if c.is_ascii_alphabetic() {
                commands.push(c);
            }
        }
    }
    if !current.is_empty() {
        numbers.push(current.parse::<usize>().unwrap());
    }
    assert_eq!(
        commands,
        ['h', 'v', 'H', 'V'],
        "an unexpected path: M{subpath}"
    );
    let [x, y, w, h, x_back, y_back] = numbers[..] else {
        panic!("an unexpected path: M{subpath}");
    };
    assert_eq!((x_back, y_back), (x, y), "a closed rectangle: M{subpath}");
    (x, y, x + w, y + h)
}

/// Decode a PNG as served (with the `png` crate, independent of ours) and read
/// the 2D code in it.
pub fn decode_png(bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    // Expand 1-bit grayscale to one byte per pixel.
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut pixels).expect("one frame");
    let (width, height) = (frame.width as usize, frame.height as usize);
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let stride = frame.line_size;
    let mut image = rqrr::PreparedImage::prepare_from_bitmap(width, height, |x, y| {
        pixels[y * stride + x] < 128
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one 2D code in the image");
    grids[0].decode().expect("the code decodes").1
}
