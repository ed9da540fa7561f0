#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// What the framer hands to a protocol handler.
public enum FramedInput: Sendable {
    /// One line, without its CRLF (a bare LF also ends a line).
    case line(ByteBuffer)
    /// A line longer than the limit arrived: the protocol answers with its error and closes.
    case lineTooLong
    /// A piece of a counted run of raw bytes asked for with `LineFramer.readRaw(count:)`: a BDAT
    /// chunk (RFC 3030 §2) or an IMAP literal (RFC 9051 §4.3). The run may arrive in several
    /// pieces, each of which needs `resume()` like a line; line framing starts again after it.
    case bytes(ByteBuffer)
    /// Every complete line buffered, in one piece, each still ending in its LF (or CRLF) and
    /// none longer than the limit, asked for with `LineFramer.readLines()`: for bulk data such
    /// as SMTP's DATA, where handing over a line at a time costs more than the line.
    case lines(ByteBuffer)
}

/// Splits the byte stream into lines, one at a time: after a line is delivered the framer
/// waits until the protocol handler calls `resume()`, so pipelined commands are answered in
/// order and nothing is read past a command that changes the stream (STARTTLS). While it waits
/// it stops reading from the socket once `highWaterMark` bytes are buffered. A handler that
/// answers at once may call `resume()` from inside its `channelRead`: the framer then delivers
/// the next line from its own loop, so a long pipeline never deepens the stack. The framer
/// flushes the channel once no command is in flight, so a pipeline's answers leave together.
public final class LineFramer: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = FramedInput
    public typealias OutboundIn = Never

    /// Bytes buffered before the framer stops asking the socket for more.
    public static let highWaterMark = 256 * 1024

    private let maxLineLength: Int
    private var buffer: ByteBuffer?
    private var scanned = 0
    private var waiting = false
    private var readPending = false
    private var failed = false
    private var delivering = false
    private var context: ChannelHandlerContext?
    /// Raw bytes still to deliver as `.bytes` before lines again.
    private var rawRemaining = 0
    /// Whether the next delivery is a block of `.lines`.
    private var linesWanted = false

    /// `maxLineLength` counts the line without its CRLF.
    public init(maxLineLength: Int) { self.maxLineLength = maxLineLength }

    /// Makes the next `count` bytes of the stream arrive as `.bytes` pieces, however many lines
    /// they hold, then goes back to lines. Call it before `resume()` for the command that
    /// announced the count (BDAT, an IMAP literal). Large runs are handed over in pieces as they
    /// arrive, so `highWaterMark` still bounds what is buffered.
    public func readRaw(count: Int) {
        precondition(count >= 0, "a raw byte count is never negative")
        rawRemaining = count
    }

    /// Makes the next delivery one `.lines` block of every complete line buffered (waiting for
    /// at least one) instead of a single line. One delivery: call it again for the next block.
    /// What the handler reads past its data (the pipelined commands after SMTP's final dot) it
    /// gives back with `unread(_:)`.
    public func readLines() {
        linesWanted = true
    }

    /// Puts `bytes` back in front of whatever is buffered, to be delivered again, first.
    public func unread(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        var front = bytes
        if var rest = buffer { front.writeBuffer(&rest) }
        buffer = front
        scanned = 0
    }

    /// The index of the first LF in `raw` at or after `start`, found with `memchr`; nil if none.
    public static func lineFeed(in raw: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < raw.count, let base = raw.baseAddress,
              let found = memchr(base + start, 0x0A, raw.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// Raw bytes asked for with `readRaw(count:)` that have not been delivered yet.
    public var rawBytesPending: Int { rawRemaining }

    /// Bytes received but not yet delivered as lines.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer!.writeBuffer(&incoming) }
        deliver(context: context)
    }

    /// Holds the next line back until `resume()`, between commands: for a handler that sends
    /// something unsolicited that the next command must not overtake.
    public func pause() {
        waiting = true
    }

    /// Ends the current command: lets the next line through, and flushes the answers once no
    /// command is in flight. Call on the channel's event loop.
    public func resume() {
        waiting = false
        guard !delivering, let context else { return }
        deliver(context: context)
        if readPending && bufferedBytes < Self.highWaterMark && !failed {
            readPending = false
            context.read()
        }
    }

    public func read(context: ChannelHandlerContext) {
        if bufferedBytes >= Self.highWaterMark || failed {
            readPending = true
        } else {
            context.read()
        }
    }

    private func deliver(context: ChannelHandlerContext) {
        delivering = true
        while !waiting && !failed && deliverOne(context: context) {}
        delivering = false
        if !waiting { context.flush() }
    }

    /// Delivers the next complete line (or, after `readLines()`, every complete line buffered,
    /// as one block), if there is one. Returns whether it delivered.
    private func deliverOne(context: ChannelHandlerContext) -> Bool {
        guard var buf = buffer else { return false }
        if rawRemaining > 0 {
            let piece = buf.readSlice(length: min(rawRemaining, buf.readableBytes))!
            rawRemaining -= piece.readableBytes
            hand(.bytes(piece), keeping: buf, context: context)
            return true
        }
        let (end, firstLength, tooLong) = buf.withUnsafeReadableBytes {
            Self.scanLines($0, from: scanned, limit: maxLineLength, all: linesWanted)
        }
        if tooLong {
            fail(context: context)
            return false
        }
        guard end > 0 else {
            scanned = buf.readableBytes
            if buf.readableBytes > maxLineLength + 1 { fail(context: context) }
            return false
        }
        if linesWanted {
            linesWanted = false
            hand(.lines(buf.readSlice(length: end)!), keeping: buf, context: context)
        } else {
            let line = buf.readSlice(length: firstLength)!
            buf.moveReaderIndex(forwardBy: end - firstLength)
            hand(.line(line), keeping: buf, context: context)
        }
        return true
    }

    /// The complete lines at the start of `raw` (whose first `from` bytes hold no LF): where the
    /// first of them ends, or with `all` the last (0 when there is none), the first one's length
    /// without its CRLF or LF, and whether one of them is longer than `limit`.
    private static func scanLines(_ raw: UnsafeRawBufferPointer, from: Int, limit: Int,
                                  all: Bool) -> (end: Int, firstLength: Int, tooLong: Bool) {
        var end = 0, firstLength = 0, searchFrom = from
        while let lf = lineFeed(in: raw, from: searchFrom) {
            let length = lf - end - (lf > end && raw[lf - 1] == UInt8(ascii: "\r") ? 1 : 0)
            if length > limit { return (end, firstLength, true) }
            if end == 0 { firstLength = length }
            end = lf + 1
            searchFrom = end
            if !all { break }
        }
        return (end, firstLength, false)
    }

    /// Hands `input` to the handler, keeping `rest` (what is left of the buffer after it) for
    /// later, and waits for `resume()`.
    private func hand(_ input: FramedInput, keeping rest: ByteBuffer, context: ChannelHandlerContext) {
        scanned = 0
        buffer = rest.readableBytes == 0 ? nil : rest
        if buffer != nil, rest.readerIndex > 64 * 1024 { buffer!.discardReadBytes() }
        waiting = true
        context.fireChannelRead(wrapInboundOut(input))
    }

    private func fail(context: ChannelHandlerContext) {
        failed = true
        buffer = nil
        context.fireChannelRead(wrapInboundOut(.lineTooLong))
    }
}
