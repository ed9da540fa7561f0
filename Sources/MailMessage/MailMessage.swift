// Placeholder: the MailMessage module is being built (issue 3).
public enum MailMessageVersion { public static let string = "0" }
