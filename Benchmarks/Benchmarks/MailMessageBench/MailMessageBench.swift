// Parse throughput of MailMessage on generated typical mail, and on the shared corpus of real
// mail when it is present. The lead merges this target into Benchmarks/Package.swift
// (ordo-one/benchmark).
import Benchmark
import Foundation
import MailMessage

/// A message with the header fields typical mail carries and the given content header and body.
private func message(_ content: [String], _ body: String) -> [UInt8] {
    let header = [
        "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.net; Tue, 1 Jul 2003 10:52:37 +0200",
        "From: \"Alice Example\" <alice@example.org>", "To: Bob <bob@example.net>, carol@example.com",
        "Subject: Re: [list] Quarterly report", "Date: Tue, 1 Jul 2003 10:52:37 +0200",
        "Message-ID: <msg-1@example.org>", "References: <a@example.org> <p@example.org>", "MIME-Version: 1.0",
    ] + content
    return Array((header.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
}

/// `n` bytes of base64 text in 76-character lines.
private func base64Text(_ n: Int) -> String {
    let line = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx", count: 1) + "MjM0\r\n"
    return String(repeating: line, count: max(1, n / line.utf8.count))
}

private let smallText = message(["Content-Type: text/plain; charset=utf-8"],
    String(repeating: "Hello Bob, this is a short line of text in a typical message body.\r\n", count: 30))

private let multipartWithAttachments = message(["Content-Type: multipart/mixed; boundary=mix"],
    "--mix\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        + String(repeating: "Some text caf=C3=A9 here.\r\n", count: 40)
        + "\r\n--mix\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64Text(80_000) + "\r\n--mix--\r\n")

private let largeAttachment = message(["Content-Type: multipart/mixed; boundary=z"],
    "--z\r\n\r\nSee attached.\r\n--z\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64Text(5 << 20) + "\r\n--z--\r\n")

/// Every message of the shared corpus (`../shared/corpus` beside the checkout, or `MSTORE_CORPUS`),
/// CRLF-normalised as the store keeps them, in a fixed order; empty when the corpus is absent.
///
/// mbox files are split at "From " lines that follow a blank line, with mboxo ">From " unquoted;
/// other files are Maildir messages when they start with a header field.
private func corpusMessages() -> [[UInt8]] {
    let root = ProcessInfo.processInfo.environment["MSTORE_CORPUS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../../shared/corpus").standardized.path
    guard let files = try? FileManager.default.subpathsOfDirectory(atPath: root) else { return [] }
    var messages = [[UInt8]]()
    func add(_ m: some Collection<UInt8>) {
        if m.contains(where: { $0 != 10 }) { messages.append(ParsedMessage.crlfNormalized(m)) }
    }
    for name in files.sorted() {
        guard !name.hasSuffix(".md"), let data = FileManager.default.contents(atPath: root + "/" + name) else { continue }
        let bytes = [UInt8](data)
        if name.hasSuffix(".mbox") {
            var current: [UInt8]?
            var afterBlank = true
            for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
                if afterBlank, line.starts(with: "From ".utf8) {
                    if let m = current { add(m.dropLast()) }  // the blank line before "From " separates
                    current = []
                } else {
                    current? += (line.starts(with: ">From ".utf8) ? line.dropFirst() : line) + [10]
                }
                afterBlank = line.isEmpty
            }
            if let m = current { add(m.dropLast()) }
        } else {
            // A message starts with a header field name and its colon (not a README or COPYING).
            let nameLength = bytes.prefix(while: { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }).count
            if nameLength > 0, nameLength < bytes.count, bytes[nameLength] == UInt8(ascii: ":") { add(bytes) }
        }
    }
    return messages
}

let benchmarks: @Sendable () -> Void = {
    for (name, raw) in [
        ("small text", smallText), ("multipart with attachments", multipartWithAttachments),
        ("5 MiB base64 attachment", largeAttachment),
    ] {
        Benchmark("MailMessage.parse \(name)", configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal])) { b in
            for _ in b.scaledIterations { blackHole(ParsedMessage.parse(raw)) }
        }
    }
    // Real mail: one iteration parses every corpus message; MB/s is the size in the name over the time.
    let corpus = corpusMessages()
    if !corpus.isEmpty {
        let megabytes = Double(corpus.reduce(0) { $0 + $1.count }) / 1e6
        let name = "MailMessage.parse corpus mix (\(corpus.count) messages, \((megabytes * 100).rounded() / 100) MB)"
        Benchmark(name, configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 200)) { b in
            for _ in b.scaledIterations {
                for raw in corpus { blackHole(ParsedMessage.parse(raw)) }
            }
        }
        // The two other steps of preparing a message for the store, which import and delivery
        // run for every message: its text for search, then that text's words.
        let parsedCorpus = corpus.map { ($0, ParsedMessage.parse($0)) }
        Benchmark("SearchDocument corpus mix (\(corpus.count) messages)",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 200)) { b in
            for _ in b.scaledIterations {
                for (raw, parsed) in parsedCorpus { blackHole(SearchDocument(parsed, raw: raw)) }
            }
        }
        let documents = parsedCorpus.map { SearchDocument($0.1, raw: $0.0) }
        Benchmark("IndexTerms corpus mix (\(corpus.count) messages)",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal], maxIterations: 200)) { b in
            for _ in b.scaledIterations {
                for document in documents { blackHole(IndexTerms(document)) }
            }
        }
    }
    let parsed = ParsedMessage.parse(multipartWithAttachments)
    let stored = parsed.serialized()
    Benchmark("MailMessage.init(serialized:)") { b in
        for _ in b.scaledIterations { blackHole(try ParsedMessage(serialized: stored)) }
    }
    Benchmark("MailMessage.section BODY[1]") { b in
        for _ in b.scaledIterations { blackHole(parsed.sectionBytes(SectionSpec(part: [1]), in: multipartWithAttachments)) }
    }
}
