import IMAPProtocol

/// COMPRESS (RFC 4978), UNAUTHENTICATE (RFC 8437) and QUOTA (RFC 9208): run with the other
/// fixtures (parse, refuse, round trip, every prefix and byte change).
let extensionFixtures: [ParseFixture] = [
    P("a COMPRESS DEFLATE", .compress(mechanism: "DEFLATE")),
    P("a compress deflate", .compress(mechanism: "DEFLATE")),
    P("a COMPRESS LZ4", .compress(mechanism: "LZ4")),
    P("a UNAUTHENTICATE", .unauthenticate),
    P("a GETQUOTA \"\"", .getQuota(root: "")),
    P("a GETQUOTA user", .getQuota(root: "user")),
    P("a GETQUOTAROOT INBOX", .getQuotaRoot(mailbox: "INBOX")),
    P("a getquotaroot \"Sent Items\"", .getQuotaRoot(mailbox: "Sent Items")),
    P("a SETQUOTA \"\" (STORAGE 512)", .setQuota(root: "", limits: [QuotaLimit(resource: "STORAGE", limit: 512)])),
    P("a SETQUOTA \"\" (storage 512 MESSAGE 1000)",
          .setQuota(root: "", limits: [QuotaLimit(resource: "STORAGE", limit: 512), QuotaLimit(resource: "MESSAGE", limit: 1000)])),
    P("a SETQUOTA \"\" ()", .setQuota(root: "", limits: [])),
]

let extensionBadFixtures: [BadFixture] = [
    B("a COMPRESS", "Missing argument"),
    B("a COMPRESS ", "Missing compression mechanism"),
    B("a UNAUTHENTICATE now", "Unexpected characters at end of command"),
    B("a GETQUOTA", "Missing argument"),
    B("a GETQUOTAROOT", "Missing argument"),
    B("a SETQUOTA \"\"", "Missing argument"),
    B("a SETQUOTA \"\" (STORAGE)", "Expected a space"),
    B("a SETQUOTA \"\" (STORAGE x)", "Expected a number"),
    B("a SETQUOTA \"\" STORAGE 5", "Expected ("),
]
