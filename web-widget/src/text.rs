//! The widget's own words in Vietnamese and English. KPI labels come from the API (or the
//! kpi-core catalog); everything else a tile says is here, in one table per language.
use kpi_core::kpi::{Lang, Status};

/// Every fixed text the widget shows.
pub struct Texts {
    pub on_track: &'static str,
    pub at_risk: &'static str,
    pub off_track: &'static str,
    pub no_status: &'static str,
    pub vs_previous: &'static str,
    /// Tooltip of a change within noise (`change_significant: false`).
    pub change_noise: &'static str,
    /// Tooltip of a significant change.
    pub change_real: &'static str,
    pub insufficient: &'static str,
    pub interval: &'static str,
    pub no_data: &'static str,
    /// Before the days a value is computed over when they are not the period's (CLV's
    /// trailing year).
    pub window: &'static str,
    pub promoters: &'static str,
    pub passives: &'static str,
    pub detractors: &'static str,
    pub stale: &'static str,
    pub retry: &'static str,
    pub loading: &'static str,
    pub bad_key: &'static str,
    pub forbidden: &'static str,
    pub offline: &'static str,
    pub server: &'static str,
    pub invalid: &'static str,
    pub periods: [(&'static str, &'static str); 5],
    pub period_group: &'static str,
    pub trend: &'static str,
    pub target: &'static str,
    pub top_agents: &'static str,
    pub by_segment: &'static str,
    pub by_channel: &'static str,
    pub funnel: &'static str,
    /// Channel ids of the API and their names (`other` and unknown ids: the last entry).
    pub channels: [(&'static str, &'static str); 7],
}

const VI: Texts = Texts {
    on_track: "Đạt mục tiêu",
    at_risk: "Cần chú ý",
    off_track: "Chưa đạt",
    no_status: "Chưa có mục tiêu",
    vs_previous: "so với kỳ trước",
    change_noise: "Thay đổi nằm trong sai số ngẫu nhiên: chưa có ý nghĩa thống kê ở mức 95%",
    change_real: "Thay đổi có ý nghĩa thống kê ở mức 95%",
    insufficient: "Mẫu chưa đủ",
    interval: "Khoảng tin cậy 95%",
    no_data: "Chưa có dữ liệu trong kỳ",
    window: "Tính trên",
    promoters: "Ủng hộ",
    passives: "Trung lập",
    detractors: "Phản đối",
    stale: "Dữ liệu cũ: không làm mới được",
    retry: "Thử lại",
    loading: "Đang tải chỉ số…",
    bad_key: "Khóa không hợp lệ",
    forbidden: "Trang này không được phép dùng khóa",
    offline: "Không kết nối được dịch vụ (mất mạng?)",
    server: "Lỗi máy chủ",
    invalid: "Dữ liệu không đúng định dạng",
    periods: [
        ("day", "Ngày"),
        ("week", "Tuần"),
        ("month", "Tháng"),
        ("quarter", "Quý"),
        ("year", "Năm"),
    ],
    period_group: "Kỳ",
    trend: "Xu hướng trong kỳ",
    target: "Mục tiêu",
    top_agents: "Nhân viên dẫn đầu",
    by_segment: "Theo nhóm",
    by_channel: "Theo kênh (trung vị)",
    funnel: "Phễu theo giai đoạn",
    channels: [
        ("email", "Email"),
        ("chat", "Chat"),
        ("phone", "Điện thoại"),
        ("zalo", "Zalo"),
        ("sms", "SMS"),
        ("web", "Web"),
        ("other", "Khác"),
    ],
};

const EN: Texts = Texts {
    on_track: "On track",
    at_risk: "At risk",
    off_track: "Off track",
    no_status: "No target",
    vs_previous: "vs previous period",
    change_noise: "Within random noise: not statistically significant at 95%",
    change_real: "Statistically significant at 95%",
    insufficient: "Insufficient sample",
    interval: "95% interval",
    no_data: "No data in this period",
    window: "Over",
    promoters: "Promoters",
    passives: "Passives",
    detractors: "Detractors",
    stale: "Stale: refresh failed",
    retry: "Retry",
    loading: "Loading KPIs…",
    bad_key: "Invalid key",
    forbidden: "This page's origin is not allowed for the key",
    offline: "Cannot reach the KPI service (offline?)",
    server: "Server error",
    invalid: "Unexpected data",
    periods: [
        ("day", "Day"),
        ("week", "Week"),
        ("month", "Month"),
        ("quarter", "Quarter"),
        ("year", "Year"),
    ],
    period_group: "Period",
    trend: "Trend in the period",
    target: "Target",
    top_agents: "Top agents",
    by_segment: "By segment",
    by_channel: "By channel (median)",
    funnel: "Stage funnel",
    channels: [
        ("email", "Email"),
        ("chat", "Chat"),
        ("phone", "Phone"),
        ("zalo", "Zalo"),
        ("sms", "SMS"),
        ("web", "Web"),
        ("other", "Other"),
    ],
};

/// The table for `lang`.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

impl Texts {
    /// A status in words, with its CSS class and a shape that does not rely on colour.
    pub fn status(&self, s: Option<Status>) -> (&'static str, &'static str, &'static str) {
        match s {
            Some(Status::OnTrack) => (self.on_track, "on-track", "●"),
            Some(Status::AtRisk) => (self.at_risk, "at-risk", "◆"),
            Some(Status::OffTrack) => (self.off_track, "off-track", "■"),
            None => (self.no_status, "none", "○"),
        }
    }

    /// The name of a channel id.
    pub fn channel(&self, id: &str) -> &'static str {
        self.channels
            .iter()
            .find(|(k, _)| *k == id)
            .unwrap_or(&self.channels[6])
            .1
    }

    /// The label of a period kind, or the kind itself when unknown.
    pub fn period<'a>(&self, kind: &'a str) -> &'a str {
        self.periods
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(kind, |(_, l)| l)
    }
}
