//! Pages assembled at random from the fragments a head is made of (and the ones that trip a
//! tokenizer: comments with abrupt endings, quotes, raw text, `</head` in every context), run
//! through [`instant_fuzz_checks::inject::check`]: a page served whole, which may skip the HTML
//! rewriter, must come back exactly as the same page streamed through it. The generator is
//! seeded, so a failure names a page that fails again.

/// The pieces of a page's start; most are plain head markup, some are traps.
const FRAGMENTS: &[&str] = &[
    "<!doctype html>",
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD\">",
    "<html lang=\"en\">",
    "<HTML>",
    "<head>",
    "<head >",
    "<HEAD data-x='1'>",
    "<head/>",
    "</head>",
    "</head >",
    "</HEAD>",
    "</head x='>'>",
    "</header>",
    "</head",
    "<meta charset=\"utf-8\">",
    "<meta name=a content='</head>'>",
    "<meta content=</head>>",
    "<meta content=\"a>b\" />",
    "<meta a=\"x\"b='y'c=z/>",
    "<meta = x>",
    "<link rel=stylesheet href=/s.css>",
    "<base href=\"/\">",
    "<title>",
    "</title>",
    "</titlex>",
    "<title>Orders &amp; </head></title>",
    "<style>td{padding:2px}</style>",
    "<style>/* </head> */</style >",
    "<style>",
    "</style>",
    "<script>",
    "</script>",
    "<script>if (a < b && c > d) {}</script>",
    "<script>\"</head>\"</script>",
    "<script><!--</script>",
    "<script><!--<script></script>--></script>",
    "<script/>",
    "<!-- c -->",
    "<!-- </head> -->",
    "<!-->",
    "<!--->",
    "<!---->",
    "<!-- a --!>",
    "<!-- <!--> -->",
    "<!--",
    "-->",
    "<noscript>",
    "</noscript>",
    "<template>",
    "</template>",
    "<svg>",
    "<? x ?>",
    "<div>",
    "<body>",
    "</body>",
    "<p>text</p>",
    "text",
    "\"",
    "'",
    "<",
    ">",
    "/",
    "=",
    " ",
    "\n",
    "\t",
];

/// A small xorshift generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A page: mostly a plain head with a few random fragments in it, sometimes fragments only.
fn page(rng: &mut Rng) -> String {
    let mut page = String::new();
    let plain = rng.below(3) > 0;
    if plain {
        page.push_str(["", "<!doctype html>\n", "<!DOCTYPE html>"][rng.below(3)]);
        page.push_str(["", "<html>", "<html lang=en>\n"][rng.below(3)]);
        page.push_str("<head>");
    }
    for _ in 0..rng.below(12) {
        let plain_element = [
            "<meta charset=\"utf-8\">",
            "<title>t</title>",
            "<link rel=\"icon\" href=\"/i.png\">",
            "<style>a{b:c}</style>",
            "<script src=\"/a.js\"></script>",
            "<!-- c -->",
            "\n  ",
        ];
        if plain && rng.below(4) > 0 {
            page.push_str(plain_element[rng.below(plain_element.len())]);
        } else {
            page.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
    }
    if plain {
        page.push_str("</head>");
    }
    page.push_str(["<body><p>b</p></body></html>", "", "<p>x"][rng.below(3)]);
    page
}

#[test]
fn a_whole_page_comes_back_as_the_streamed_one() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let page = page(&mut rng);
        // Streamed in two chunks cut at a random place, and whole.
        let cut = rng.below(page.len() + 1);
        let mut data = page.as_bytes()[..cut].to_vec();
        data.push(0xFF);
        data.extend_from_slice(&page.as_bytes()[cut..]);
        instant_fuzz_checks::inject::check(&data);
    }
}
