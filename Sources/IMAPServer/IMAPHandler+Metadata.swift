import IMAPProtocol
import MailStore
import NIOCore

/// METADATA (RFC 5464) and LIST-METADATA (RFC 9590): annotations on the server (the account,
/// named by the mailbox `""`) and on each mailbox, kept by the store with the mailbox. Entry
/// names are compared without case (stored lower-cased, as Dovecot does).
extension IMAPHandler {
    /// What GETMETADATA (and LIST-METADATA) answers for `requested` entries out of `stored`:
    /// each entry with its value, its children down to `depth`, NIL for a depth-0 entry without
    /// a value, no value longer than `maxSize` (the longest one left out is `longest`).
    static func metadataAnswer(_ stored: [Annotation], requested: [String], depth: MetadataOptions.Depth,
                               maxSize: UInt32?) -> (entries: [MetadataEntry], longest: Int?) {
        var entries: [MetadataEntry] = []
        var seen = Set<String>()
        var longest: Int?
        func add(_ name: String, _ value: [UInt8]?) {
            guard seen.insert(name).inserted else { return }
            if let value, let maxSize, value.count > Int(maxSize) {
                longest = max(longest ?? 0, value.count)
                return
            }
            entries.append(MetadataEntry(name: name, value: value))
        }
        for name in requested.map({ $0.lowercased() }) {
            var found = false
            if let exact = stored.first(where: { $0.name == name }) {
                add(exact.name, exact.value)
                found = true
            }
            if depth != .zero {
                let prefix = name + "/"
                for child in stored where child.name.hasPrefix(prefix) {
                    if depth == .one, child.name.dropFirst(prefix.count).contains("/") { continue }
                    add(child.name, child.value)
                }
            }
            if !found && depth == .zero { add(name, nil) }
        }
        return (entries, longest)
    }

    /// `* METADATA mailbox (entry value ...)`: values as strings, or literal8 when they hold NUL;
    /// without `values`, only the names (`* METADATA mailbox (entry ...)`, RFC 5464 §4.4).
    func sendMetadata(_ context: ChannelHandlerContext, mailbox: String?, _ entries: [MetadataEntry], values: Bool = true) {
        guard !entries.isEmpty else { return }
        var out = context.channel.allocator.buffer(capacity: 64)
        out.writeStaticString("* METADATA ")
        if let mailbox { out.writeMailboxName(mailbox, utf8Enabled: utf8) } else { out.writeStaticString("\"\"") }
        out.writeStaticString(" (")
        for (i, entry) in entries.enumerated() {
            if i > 0 { out.writeStaticString(" ") }
            out.writeAString(entry.name, utf8: false)
            guard values else { continue }
            out.writeStaticString(" ")
            switch entry.value {
            case nil: out.writeStaticString("NIL")
            case let value? where value.contains(0): out.writeIMAPLiteral8(value)
            case let value?: out.writeIMAPString(value, utf8: utf8)
            }
        }
        out.writeStaticString(")\r\n")
        context.write(NIOAny(out), promise: nil)
    }

    /// Whose entries a METADATA command names: the server (`""`) or a mailbox.
    enum MetadataOwner {
        case server
        case mailbox(String)
        var name: String? { if case .mailbox(let name) = self { name } else { nil } }
    }

    /// Nil for an invalid mailbox name.
    private func metadataOwner(_ wire: String) -> MetadataOwner? {
        if wire.isEmpty { return .server }
        return storeName(wire).map { .mailbox($0) }
    }

    /// `C: a GETMETADATA (DEPTH 1) INBOX /private/vendor` / `S: * METADATA INBOX (...)`.
    func getMetadata(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ requested: [String],
                     _ options: MetadataOptions, _ account: Account) {
        guard let owner = metadataOwner(wire) else { return invalidName(context, tag) }
        let name = owner.name
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in
                let box = try name.map { try tx.requireMailbox(of: account.id, named: $0) }
                return try tx.annotations(account: account.id, mailbox: box?.id)
            }
        }) { handler, context, result in
            switch result {
            case .success(let stored):
                let (entries, longest) = Self.metadataAnswer(stored, requested: requested, depth: options.depth,
                                                             maxSize: options.maxSize)
                handler.sendMetadata(context, mailbox: name, entries)
                // RFC 5464 §4.2.1: the size of the longest value left out by MAXSIZE.
                let code = longest.map { "[METADATA LONGENTRIES \($0)] " } ?? ""
                handler.complete(context, tag, "OK \(code)GETMETADATA completed.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// `C: a SETMETADATA INBOX (/private/comment "text" /shared/comment NIL)`: all or none.
    func setMetadata(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ entries: [MetadataEntry],
                     _ account: Account) {
        guard let owner = metadataOwner(wire) else { return invalidName(context, tag) }
        let name = owner.name
        var changes: [(name: String, value: [UInt8]?)] = []
        for entry in entries {
            let entryName = entry.name.lowercased()
            // `/private` and `/shared` alone name the two trees, not an entry.
            guard entryName.dropFirst().contains("/") else {
                return reply(context, "\(tag) BAD Cannot set \(entry.name): name an entry under it.")
            }
            changes.append((entryName, entry.value))
        }
        let store = self.store
        let updates = changes
        run(context, {
            try await store.write { tx in
                let box = try name.map { try tx.requireMailbox(of: account.id, named: $0) }
                try tx.setAnnotations(account: account.id, mailbox: box?.id, updates)
            }
        }) { handler, context, result in
            switch result {
            case .success:
                handler.complete(context, tag, "OK SETMETADATA completed.")
            case .failure(MailStoreError.annotationTooLarge(let max)):
                handler.reply(context, "\(tag) NO [METADATA MAXSIZE \(max)] Value too long.")
            case .failure(MailStoreError.tooManyAnnotations):
                handler.reply(context, "\(tag) NO [METADATA TOOMANY] Too many entries.")
            case .failure(MailStoreError.invalidAnnotationName):
                handler.reply(context, "\(tag) BAD Entry name too long.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }
}
