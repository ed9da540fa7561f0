import IMAPProtocol
import MailMessage
import MailStore
import NIOCore

/// CATENATE (RFC 4469): APPEND (and REPLACE) messages built from text sent in the command and
/// from messages or sections already in the user's mailboxes, named by IMAP URL (RFC 5092).
/// No URLAUTH: a URL names only the logged-in user's own mailboxes.
extension IMAPHandler {
    enum CatenateFailure: Error {
        case badURL(String)
        case tooBig
    }

    /// Hands `messages` on with every CATENATE message built into `data`, or answers
    /// `NO [BADURL url]` / `NO [TOOBIG]` and does not call `then`.
    func resolvingCatenate(_ context: ChannelHandlerContext, _ tag: String, _ messages: [AppendMessage],
                           then: @escaping (IMAPHandler, ChannelHandlerContext, [AppendMessage]) -> Void) {
        guard messages.contains(where: { $0.catenate != nil }), let account else { return then(self, context, messages) }
        let store = self.store
        let selectedID = selected?.id
        // The store's read passes only its own errors through, so a bad URL comes back as a value.
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx -> Result<[AppendMessage], CatenateFailure> in
                do {
                    return .success(try messages.map { m -> AppendMessage in
                        guard let parts = m.catenate else { return m }
                        var built = m
                        built.data = try Self.catenate(parts, tx, account: account, selected: selectedID)
                        built.catenate = nil
                        return built
                    })
                } catch let failure as CatenateFailure {
                    return .failure(failure)
                }
            }
        }) { handler, context, result in
            switch result {
            case .success(.success(let built)):
                then(handler, context, built)
            case .success(.failure(.badURL(let url))):
                var quoted = ByteBuffer()
                quoted.writeIMAPQuoted(url)
                handler.reply(context, "\(tag) NO [BADURL \(String(buffer: quoted))] The URL names no message of yours.")
            case .success(.failure(.tooBig)):
                handler.reply(context, "\(tag) NO [TOOBIG] The message would be over \(IMAPLimits.maxLiteralSize) bytes.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// The bytes of the parts in order: a URL gives what `BODY.PEEK[section]<partial>` of its
    /// message would (RFC 4469 §5), the whole message without a section.
    static func catenate(_ parts: [CatenatePart], _ tx: StoreReader, account: Account, selected: MailboxID?) throws -> [UInt8] {
        var data: [UInt8] = []
        for part in parts {
            switch part {
            case .text(let bytes):
                data += bytes
            case .url(let text):
                guard let url = IMAPMessageURL.parse(text),
                      url.user.map({ $0.lowercased() == account.name.lowercased() }) ?? true
                else { throw CatenateFailure.badURL(text) }
                let mailbox: MailboxID
                if let name = url.mailbox {
                    guard let box = try tx.mailbox(of: account.id, named: name),
                          url.uidValidity.map({ $0 == box.uidValidity }) ?? true
                    else { throw CatenateFailure.badURL(text) }
                    mailbox = box.id
                } else {
                    guard let selected else { throw CatenateFailure.badURL(text) }
                    mailbox = selected
                }
                guard let record = try tx.message(in: mailbox, uid: UID(url.uid)) else { throw CatenateFailure.badURL(text) }
                var bytes: ArraySlice<UInt8>
                if let section = url.section {
                    let (structure, raw) = try tx.parsedContent(record.content)
                    guard let content = structure.sectionBytes(section, in: raw) else { throw CatenateFailure.badURL(text) }
                    bytes = content[...]
                } else {
                    bytes = try tx.content(record.content)[...]
                }
                if let partial = url.partial { bytes = FetchRenderer.clip(bytes, partial) }
                data += bytes
            }
            guard data.count <= IMAPLimits.maxLiteralSize else { throw CatenateFailure.tooBig }
        }
        return data
    }
}
