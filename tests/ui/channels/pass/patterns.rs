// Patterns: concrete names with `.with`, read back with `ChannelSet::resolve`.
use instant::channel::{ParamValue, PatternError};

instant::channels! {
    pub static CHANNELS;
    /// One order's viewers.
    users "$order_{id}" as ORDER,
    staff "$board_{team}_{board}" as BOARD,
    public "news_{topic}" as NEWS,
    staff "$orders_all",
}

fn main() {
    assert_eq!(ORDER.with(42_u64).as_str(), "$order_42");
    let team = ParamValue::new("design").unwrap();
    assert_eq!(BOARD.with((&team, 7)).as_str(), "$board_design_7");
    assert_eq!(NEWS.try_with(["rust"]).unwrap().as_str(), "news_rust");
    assert!(matches!(NEWS.try_with(["a b"]), Err(PatternError::InvalidValue(_))));
    let (pattern, params) = CHANNELS.resolve("$board_design_7").unwrap();
    assert_eq!(pattern.name(), "$board_{team}_{board}");
    assert_eq!(params.parse::<u32>("board"), Some(7));
    let name: String = ORDER.with(1_u8).into();
    assert_eq!(name, "$order_1");
}
