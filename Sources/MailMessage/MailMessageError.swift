/// Errors of the MailMessage module.
public enum MailMessageError: Error, Sendable, Equatable {
    /// A part's Content-Transfer-Encoding is not one this module decodes. RFC 3516 §4.3 [UNKNOWN-CTE].
    case unknownTransferEncoding(String)
    /// The section names no part of the message.
    case noSuchPart
    /// Serialized bytes are truncated, corrupt or of an unknown version.
    case malformedSerialization
}
