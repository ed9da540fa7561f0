/// One broken invariant found by `checkConsistency()`.
public struct ConsistencyProblem: Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

extension MailStore {
    /// Recomputes from scratch what the store keeps incrementally, and compares: mailbox counts,
    /// account usage, content reference counts, orphaned content and pieces, UIDs below
    /// UIDNEXT, modseqs at or below HIGHESTMODSEQ, one change-log entry per message, and a
    /// full-text index and sort keys that hold exactly what each message's content gives, and
    /// parsed structures that match their content's bytes. An empty result means the store is
    /// consistent. `progress` gets the number of messages checked so far. `repair()` rebuilds
    /// what can be rebuilt.
    public func checkConsistency(progress: (Int) -> Void = { _ in }) throws -> [ConsistencyProblem] {
        try read { tx in try tx.consistencyProblems(progress: progress) }
    }
}

extension StoreReader {
    func consistencyProblems(progress: (Int) -> Void = { _ in }) throws -> [ConsistencyProblem] {
        var problems: [ConsistencyProblem] = []
        func report(_ s: String) { problems.append(ConsistencyProblem(description: s)) }
        var references: [ContentID: Int] = [:]
        var checked = 0

        for account in try accounts() {
            var usedBytes = 0, usedMessages = 0
            for mailbox in try mailboxes(of: account.id) {
                var messages = 0, unseen = 0, deleted = 0, size = 0
                var lastUID = UID(0)
                try forEachMessage(in: mailbox.id) { r in
                    messages += 1; size += r.size
                    if !r.flags.contains(.seen) { unseen += 1 }
                    if r.flags.contains(.deleted) { deleted += 1 }
                    references[r.content, default: 0] += 1
                    if r.uid <= lastUID { report("\(mailbox.name): UID \(r.uid) out of order") }
                    lastUID = r.uid
                    if r.uid >= mailbox.uidNext { report("\(mailbox.name): UID \(r.uid) >= UIDNEXT \(mailbox.uidNext)") }
                    if r.modSeq > mailbox.highestModSeq {
                        report("\(mailbox.name): UID \(r.uid) modseq \(r.modSeq) > HIGHESTMODSEQ \(mailbox.highestModSeq)")
                    }
                    let logged = try kv.withValue(.changes, Keys.change(mailbox.id, r.modSeq, r.uid)) { $0?.first }
                    if logged != ChangeKind.updated.rawValue { report("\(mailbox.name): UID \(r.uid) missing from change log") }
                    return true
                }
                if mailbox.isNoSelect && messages > 0 { report("\(mailbox.name): \\Noselect but holds messages") }
                let counted = (messages, unseen, deleted, size)
                if counted != (mailbox.messages, mailbox.unseen, mailbox.deleted, mailbox.size) {
                    report("\(mailbox.name): counts \(mailbox.messages)/\(mailbox.unseen)/\(mailbox.deleted)/\(mailbox.size), recomputed \(messages)/\(unseen)/\(deleted)/\(size)")
                }
                for problem in try recordIndexProblems(mailbox.id) { report("\(mailbox.name): \(problem)") }
                var logEntries = 0
                try kv.scan(.changes, prefix: Keys.mailboxPrefix(mailbox.id)) { k, v in
                    if v.first == ChangeKind.updated.rawValue { logEntries += 1 }
                    if ModSeq(readU64(k, at: 4)) > mailbox.highestModSeq { report("\(mailbox.name): change log beyond HIGHESTMODSEQ") }
                    return true
                }
                if logEntries != messages { report("\(mailbox.name): \(logEntries) live change-log entries for \(messages) messages") }
                let before = checked
                for problem in try indexProblems(mailbox, progress: { progress(before + $0) }) {
                    report("\(mailbox.name): \(problem)")
                }
                checked += messages
                progress(checked)
                usedBytes += size
                usedMessages += messages
            }
            if (usedBytes, usedMessages) != (account.usedBytes, account.usedMessages) {
                report("\(account.name): usage \(account.usedBytes)/\(account.usedMessages), recomputed \(usedBytes)/\(usedMessages)")
            }
        }

        var contents = Set<ContentID>()
        var indexedContents = 0
        let hashIndexedThrough = try hashIndexedThrough()
        var unindexedHashes = Set<[UInt8]>()
        try kv.scan(.contents, prefix: []) { k, v in
            let id = ContentID(rawValue: readU64(k, at: 0))
            contents.insert(id)
            let record = try ContentRecord(decoding: v)
            if record.references != references[id, default: 0] {
                report("content \(id): \(record.references) references, recomputed \(references[id, default: 0])")
            }
            var size = 0, pieces = 0
            try forEachPiece(of: id) { size += $0.count; pieces += 1 }
            if size != record.size || pieces != record.pieceCount { report("content \(id): pieces do not add up") }
            else if !record.structure.isEmpty, try reparsedStructure(of: id, record) != record.structure {
                report("content \(id): parsed structure differs from its bytes")
            }
            let mapped = try indexedContentID(sha256: record.sha256)
            if id.rawValue <= hashIndexedThrough {
                indexedContents += 1
                if mapped != id { report("content \(id): hash index does not point back") }
            } else if mapped == id {
                report("content \(id): in the hash index past its mark")
            } else if mapped != nil || !unindexedHashes.insert(record.sha256).inserted {
                report("content \(id): its bytes are stored twice")
            }
            return true
        }
        for id in references.keys where !contents.contains(id) { report("content \(id): referenced but missing") }
        try kv.scan(.chunks, prefix: []) { k, _ in
            let id = ContentID(rawValue: readU64(k, at: 0))
            if !contents.contains(id) { report("piece of content \(id) is orphaned"); return false }
            return true
        }
        if try kv.count(.contentHashes) != indexedContents { report("hash index size differs from content count") }
        if try hashIndexedThrough > newestContentID().rawValue { report("hash index marked past the newest content") }
        for space in RecordIndex.spaces where try !deletedMailboxes(inRecordIndex: space).isEmpty {
            report("\(space) entry of a deleted mailbox")
        }
        var segments = Set<UInt64>()
        try kv.scan(.textSegments, prefix: []) { k, _ in
            if try mailbox(MailboxID(rawValue: readU32(k, at: 0))) == nil { report("text segment of a deleted mailbox") }
            segments.insert(readU64(k, at: 4))
            return true
        }
        try kv.scan(.textChunks, prefix: []) { k, _ in
            if !segments.contains(readU64(k, at: 0)) { report("piece of text segment \(readU64(k, at: 0)) is orphaned"); return false }
            return true
        }
        return problems
    }
}
