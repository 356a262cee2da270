//! The demo business's words: the people, the campaigns and what customers write. Data only.

/// Support agents (tickets): name, first-response speed factor (1 = the desk's median), and
/// the share of tickets they close in one contact.
pub const AGENTS: [(&str, f64, f64); 12] = [
    ("Lan Anh", 0.70, 0.90),
    ("Minh Tuấn", 0.80, 0.86),
    ("Thu Hà", 0.85, 0.88),
    ("Quốc Bảo", 0.90, 0.80),
    ("Ngọc Trâm", 0.95, 0.84),
    ("Hoàng Nam", 1.00, 0.78),
    ("Phương Linh", 1.00, 0.85),
    ("Đức Huy", 1.10, 0.76),
    ("Mai Chi", 1.20, 0.82),
    ("Thanh Tùng", 1.30, 0.74),
    ("Bảo Ngọc", 1.45, 0.80),
    ("Gia Hân", 1.60, 0.72),
];

/// The agents on leave during the incident month (indices into [`AGENTS`]).
pub const ON_LEAVE: [usize; 2] = [3, 8];

/// Sales consultants (orders, deals, CRM activity).
pub const CONSULTANTS: [&str; 5] = ["Khánh Vy", "Hải Đăng", "Thùy Dung", "Văn Phúc", "Như Quỳnh"];

/// Where leads come from, with their weight and the always-on campaign that brings them.
pub const SOURCES: [(&str, f64, Option<&str>, &str); 6] = [
    ("facebook", 0.34, Some("FB – Thương hiệu"), "web"),
    ("google", 0.18, Some("Google – Tìm kiếm"), "web"),
    ("zalo", 0.20, Some("Zalo OA – Khách cũ"), "zalo"),
    ("tiktok", 0.08, None, "web"),
    ("referral", 0.12, None, "other"),
    ("walk-in", 0.08, None, "other"),
];

/// The always-on ad campaigns: name, channel, daily budget (₫), impressions a day, CTR.
pub const ALWAYS_ON: [(&str, &str, i64, i64, f64); 3] = [
    ("FB – Thương hiệu", "web", 600_000, 9_000, 0.016),
    ("Google – Tìm kiếm", "web", 400_000, 1_400, 0.058),
    ("Zalo OA – Khách cũ", "zalo", 200_000, 3_000, 0.024),
];

/// The spa's services: name (for the reader of this file only), price (₫) and weight.
pub const SERVICES: [(&str, i64, f64); 8] = [
    ("Massage body đá nóng 90'", 520_000, 0.22),
    ("Chăm sóc da mặt chuyên sâu", 650_000, 0.18),
    ("Gội đầu dưỡng sinh", 180_000, 0.16),
    ("Xông hơi đá muối", 250_000, 0.10),
    ("Liệu trình trị mụn", 890_000, 0.09),
    ("Triệt lông công nghệ cao", 1_200_000, 0.08),
    ("Combo thư giãn 2 người", 1_050_000, 0.09),
    ("Tắm trắng thảo dược", 750_000, 0.08),
];

/// Membership plans billed monthly (₫) and how often new subscribers pick each.
pub const PLANS: [(i64, f64); 3] = [(490_000, 0.55), (990_000, 0.35), (1_990_000, 0.10)];

/// Ticket tags besides `complaint`.
pub const TAGS: [&str; 5] = ["booking", "voucher", "refund", "product", "feedback"];

/// What customers write after a visit, by how they felt.
pub const PRAISE: [&str; 12] = [
    "Nhân viên rất nhiệt tình, massage đúng lực, chắc chắn sẽ quay lại!",
    "Không gian sạch sẽ, thơm, nhạc nhẹ rất thư giãn.",
    "Chị kỹ thuật viên tay nghề tốt, da mặt mịn hẳn sau buổi chăm sóc.",
    "Đặt lịch qua Zalo nhanh, đến là được phục vụ ngay.",
    "Gói liệu trình đáng tiền, mình đã giới thiệu cho em gái.",
    "Trà gừng sau khi xông hơi rất ngon, cảm ơn spa.",
    "Lễ tân thân thiện, nhớ cả tên mình.",
    "Gội đầu dưỡng sinh tuyệt vời, ngủ quên luôn.",
    "Rất hài lòng, giá hợp lý so với chất lượng.",
    "Phòng riêng yên tĩnh, khăn thơm và sạch.",
    "Lần thứ ba đến đây, lần nào cũng hài lòng.",
    "Great massage and friendly staff. Will come back!",
];
/// Lukewarm comments.
pub const MIXED: [&str; 6] = [
    "Dịch vụ ổn nhưng phòng hơi lạnh.",
    "Chất lượng tốt, mong có thêm khung giờ buổi tối.",
    "Bãi giữ xe hơi chật vào cuối tuần.",
    "Kỹ thuật viên tốt, nhưng phải đợi 10 phút mới vào phòng.",
    "Ổn, nhưng nhạc hơi to.",
    "Được, nhưng giá combo nên rõ ràng hơn.",
];
/// Unhappy comments.
pub const COMPLAINTS: [&str; 7] = [
    "Phải chờ gần 30 phút dù đã đặt lịch trước.",
    "Nhân viên tư vấn bán thêm sản phẩm quá nhiều, thấy không thoải mái.",
    "Phòng tắm chưa được dọn sạch.",
    "Kỹ thuật viên làm vội, chưa hết giờ đã kết thúc.",
    "Giá cao so với chất lượng.",
    "Đặt lịch qua Zalo nhưng không ai xác nhận, đến nơi lại hết chỗ.",
    "Waited too long at the front desk.",
];
/// Comments of the weeks before Tết.
pub const TET_RUSH: [&str; 3] = [
    "Đông khách dịp cận Tết nên phải chờ lâu.",
    "Cận Tết khó đặt lịch, mong spa thêm kỹ thuật viên.",
    "Tết mà vẫn phục vụ chu đáo, cảm ơn cả nhà Hoa Sen!",
];
/// Comments of the incident month, when replies were slow.
pub const INCIDENT: [&str; 4] = [
    "Nhắn Zalo cả buổi không ai trả lời.",
    "Gọi tổng đài mãi không ai bắt máy.",
    "Hỏi về voucher mà hai ngày sau mới có người phản hồi.",
    "Đổi lịch qua chat mất cả ngày mới xong.",
];
/// After a support ticket: easy, then hard.
pub const EASY: [&str; 4] = [
    "Được hỗ trợ đổi lịch chỉ trong vài phút.",
    "Nhân viên chat trả lời nhanh và rõ ràng.",
    "Hoàn tiền nhanh, không phải giải thích nhiều lần.",
    "Quick and clear answer, thanks!",
];
/// Hard support contacts.
pub const HARD: [&str; 4] = [
    "Phải nhắn lại ba lần mới được giải quyết.",
    "Bị chuyển qua nhiều người, mỗi người hỏi lại từ đầu.",
    "Email trả lời chậm, mất hai ngày.",
    "Chờ tổng đài quá lâu rồi tự cúp máy.",
];
