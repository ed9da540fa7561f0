import IMAPProtocol
import MailStore
import NIOCore

/// COMPRESS (RFC 4978), UNAUTHENTICATE (RFC 8437) and QUOTA (RFC 9208); METADATA (RFC 5464)
/// is in IMAPHandler+Metadata.swift.
extension IMAPHandler {
    /// Offered after login, on top of `sessionCapabilities`. APPENDLIMIT is the literal limit
    /// APPEND enforces (RFC 7889 §3, the same value STATUS APPENDLIMIT gives); STATUS=SIZE is
    /// RFC 8438; MULTIAPPEND is RFC 3502 (all messages in one transaction); METADATA covers
    /// server and mailbox entries (RFC 5464), LIST-METADATA is RFC 9590.
    static let authenticatedCapabilities = [
        "COMPRESS=DEFLATE", "UNAUTHENTICATE", "QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE",
        "APPENDLIMIT=\(IMAPLimits.maxLiteralSize)", "STATUS=SIZE", "MULTIAPPEND", "METADATA", "LIST-METADATA",
    ]

    /// The quota root every mailbox of an account belongs to: quotas are per account.
    static let quotaRoot = ""

    func dispatchExtension(_ context: ChannelHandlerContext, _ tag: String, _ command: Command, _ account: Account) {
        switch command {
        case .compress(let mechanism):
            compress(context, tag, mechanism)
        case .unauthenticate:
            unauthenticate(context, tag)
        case .getQuota(let root):
            getQuota(context, tag, root: root, mailbox: nil, account)
        case .getQuotaRoot(let wire):
            guard let name = storeName(wire) else { return invalidName(context, tag) }
            getQuota(context, tag, root: nil, mailbox: name, account)
        case .setQuota:
            // RFC 9208 §4.1: only an administrator may change limits, and mstore has no
            // administrator accounts yet: limits are set with `mstore user quota`.
            reply(context, "\(tag) NO [NOPERM] Quotas are set by the administrator.")
        case .getMetadata(let mailbox, let entries, let options):
            getMetadata(context, tag, mailbox, entries, options, account)
        case .setMetadata(let mailbox, let entries):
            setMetadata(context, tag, mailbox, entries, account)
        case .notify(let set):
            notifyCommand(context, tag, set, account)
        default:
            reply(context, "\(tag) BAD Unexpected \(command.name).")
        }
    }

    // MARK: COMPRESS (RFC 4978)

    /// `C: a COMPRESS DEFLATE` / `S: a OK DEFLATE active`, then raw deflate both ways.
    private func compress(_ context: ChannelHandlerContext, _ tag: String, _ mechanism: String) {
        // RFC 4978 §3: a second COMPRESS is refused with COMPRESSIONACTIVE.
        if compressed {
            return reply(context, "\(tag) NO [COMPRESSIONACTIVE] DEFLATE is active already.")
        }
        guard mechanism == "DEFLATE" else { return reply(context, "\(tag) BAD Unsupported compression mechanism.") }
        // As with STARTTLS: bytes the client sent after the command, before our OK, were
        // written before compression started, and cannot be told apart from compressed data.
        guard framer.bufferedBytes == 0 else {
            logger.notice("COMPRESS with pipelined data: closing")
            return close(context, "* BYE Data after COMPRESS.")
        }
        let deflater: DeflateHandler
        do {
            deflater = try DeflateHandler()
        } catch {
            logger.error("COMPRESS: \(error)")
            return reply(context, "\(tag) NO [SERVERBUG] Compression is not available.")
        }
        // The OK goes out uncompressed; compression starts with the next byte (RFC 4978 §3).
        send(context, "\(tag) OK DEFLATE active")
        context.flush()
        do {
            try context.pipeline.syncOperations.addHandler(deflater, position: .before(framer))
        } catch {
            logger.error("COMPRESS: \(error)")
            context.close(promise: nil)
            return
        }
        compressed = true
        logger.info("compression on")
        finish(context)
    }

    // MARK: UNAUTHENTICATE (RFC 8437)

    /// Back to the not-authenticated state, as on a new connection, but with TLS and
    /// compression kept (RFC 8437 §3): the selected mailbox is left without expunging, the
    /// change feed ends, and ENABLEd extensions are forgotten.
    func unauthenticate(_ context: ChannelHandlerContext, _ tag: String) {
        feed?.cancel()
        feed = nil
        selected = nil
        dirty = false
        notify = nil
        notifyPending = NotifyPending()
        enabled = []
        account = nil
        connection.logger[metadataKey: "user"] = nil
        logger.info("unauthenticate")
        reply(context, "\(tag) OK [CAPABILITY \(capabilities())] UNAUTHENTICATE completed.")
    }

    // MARK: QUOTA (RFC 9208)

    /// GETQUOTA (`root` given) and GETQUOTAROOT (`mailbox` given), from the account record as
    /// it is now (the one in the session is from login time).
    ///
    ///     C: a GETQUOTAROOT INBOX
    ///     S: * QUOTAROOT INBOX ""
    ///     S: * QUOTA "" (STORAGE 10 512 MESSAGE 1 1000)
    ///     S: a OK GETQUOTAROOT completed.
    private func getQuota(_ context: ChannelHandlerContext, _ tag: String, root: String?, mailbox: String?,
                          _ account: Account) {
        let store = self.store
        let id = account.id
        run(context, services.offload(on: context.eventLoop) { () throws -> (Account?, Mailbox?) in
            try store.read { tx in
                (try tx.account(id), try mailbox.map { try tx.requireMailbox(of: id, named: $0) })
            }
        }) { handler, context, result in
            switch result {
            case .success((let current?, let box)):
                let resources = Self.quotaResources(current)
                if let box {
                    // RFC 9208 §4.3: no roots when the account has no limit.
                    let roots = resources.isEmpty ? "" : " \"\(Self.quotaRoot)\""
                    handler.send(context, "* QUOTAROOT \(handler.quotedName(box.name))\(roots)")
                } else if root != Self.quotaRoot || resources.isEmpty {
                    return handler.reply(context, "\(tag) NO [NONEXISTENT] No such quota root.")
                }
                if !resources.isEmpty {
                    handler.send(context, "* QUOTA \"\(Self.quotaRoot)\" (\(resources))")
                }
                handler.complete(context, tag, "OK \(mailbox == nil ? "GETQUOTA" : "GETQUOTAROOT") completed.")
            case .success((nil, _)):
                handler.reply(context, "\(tag) NO [NONEXISTENT] The account no longer exists.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// `STORAGE used limit MESSAGE used limit`, only for resources with a limit. STORAGE is in
    /// units of 1024 octets (RFC 9208 §5.1): usage rounds up, the limit down.
    static func quotaResources(_ account: Account) -> String {
        var parts: [String] = []
        if let limit = account.quota.storageBytes {
            parts.append("STORAGE \((account.usedBytes + 1023) / 1024) \(limit / 1024)")
        }
        if let limit = account.quota.messages {
            parts.append("MESSAGE \(account.usedMessages) \(limit)")
        }
        return parts.joined(separator: " ")
    }
}
