import CZlib
import NIOCore

/// A failure of the deflate layer: the peer sent bytes that are not a raw deflate stream, or
/// zlib could not set up its state.
struct CompressionError: Error, CustomStringConvertible {
    let code: Int32
    let what: String
    var description: String { "\(what) (zlib \(code))" }
}

/// One direction of a raw deflate stream: RFC 1951 data with no zlib or gzip wrapper, which is
/// what RFC 4978 §3 puts on the wire. Owned by one channel handler, so used on one event loop.
final class DeflateStream {
    enum Direction { case compress, decompress }

    /// How much output one call hands over at a time: bounds what a small compressed input can
    /// make the server hold at once (a "zip bomb" comes out in pieces the framer then limits).
    static let chunkSize = 64 * 1024

    let direction: Direction
    /// zlib keeps a pointer back to the z_stream, so it must not move: it lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>

    init(_ direction: Direction) throws {
        // Set up before any property is stored, so a failure never reaches deinit.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = direction == .compress ? czlib_deflate_init_raw(stream, Z_DEFAULT_COMPRESSION) : czlib_inflate_init_raw(stream)
        guard rc == Z_OK else {
            stream.deallocate()
            throw CompressionError(code: rc, what: "zlib init")
        }
        self.direction = direction
        self.stream = stream
    }

    deinit {
        if direction == .compress { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Runs `input` through the stream and hands the output to `emit` in pieces of at most
    /// `chunkSize` bytes. `flush` is `Z_NO_FLUSH` or `Z_SYNC_FLUSH` (compression only).
    func process(_ input: ByteBuffer, flush: Int32 = Z_NO_FLUSH, allocator: ByteBufferAllocator,
                 emit: (ByteBuffer) -> Void) throws {
        try input.withUnsafeReadableBytes { (raw: UnsafeRawBufferPointer) throws -> Void in
            let bytes = raw.bindMemory(to: Bytef.self)
            stream.pointee.next_in = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
            stream.pointee.avail_in = UInt32(bytes.count)
            defer { stream.pointee.next_in = nil; stream.pointee.avail_in = 0 }
            while true {
                var out = allocator.buffer(capacity: Self.chunkSize)
                let room = out.writableBytes
                var rc: Int32 = Z_OK
                let written = out.withUnsafeMutableWritableBytes { (space: UnsafeMutableRawBufferPointer) -> Int in
                    let target = space.bindMemory(to: Bytef.self)
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = UInt32(target.count)
                    rc = direction == .compress ? deflate(stream, flush) : inflate(stream, Z_SYNC_FLUSH)
                    let left = Int(stream.pointee.avail_out)
                    stream.pointee.next_out = nil
                    stream.pointee.avail_out = 0
                    return target.count - left
                }
                out.moveWriterIndex(forwardBy: written)
                let outputFull = written == room
                if written > 0 { emit(out) }
                switch rc {
                case Z_OK:
                    break
                case Z_BUF_ERROR:
                    // No progress was possible: all input is used and all output is out.
                    return
                case Z_STREAM_END where direction == .decompress:
                    // The peer ended its deflate stream (a final block). RFC 4978 has no way
                    // back to uncompressed data, so anything after it is an error.
                    if stream.pointee.avail_in > 0 { throw CompressionError(code: rc, what: "data after the end of the deflate stream") }
                    return
                default:
                    throw CompressionError(code: rc, what: direction == .compress ? "deflate" : "inflate")
                }
                if stream.pointee.avail_in == 0 && !outputFull { return }
            }
        }
    }
}

/// The COMPRESS=DEFLATE layer (RFC 4978): inflates what the client sends and deflates what the
/// server writes, with a sync flush (RFC 1951 empty stored block) at every channel flush so no
/// answer is held back in the compressor. It sits right after TLS, before the line framer.
final class DeflateHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let inflater: DeflateStream
    private let deflater: DeflateStream
    /// Compressed output not yet written, and the promises of the writes it holds.
    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []
    /// Something was deflated since the last sync flush.
    private var unflushed = false
    private var failed = false

    init() throws {
        inflater = try DeflateStream(.decompress)
        deflater = try DeflateStream(.compress)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        do {
            try inflater.process(unwrapInboundIn(data), allocator: context.channel.allocator) { piece in
                context.fireChannelRead(wrapInboundOut(piece))
            }
        } catch {
            failed = true
            context.fireErrorCaught(error)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if let promise { promises.append(promise) }
        deflate(context, unwrapOutboundIn(data), flush: Z_NO_FLUSH)
        unflushed = true
        // A long answer (FETCH of many messages) goes out as it is made, not all at the flush.
        if (pending?.readableBytes ?? 0) >= DeflateStream.chunkSize { writePending(context) }
    }

    func flush(context: ChannelHandlerContext) {
        if unflushed {
            deflate(context, context.channel.allocator.buffer(capacity: 0), flush: Z_SYNC_FLUSH)
            unflushed = false
        }
        writePending(context)
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let waiting = promises
        promises = []
        for p in waiting { p.fail(ChannelError.ioOnClosedChannel) }
    }

    private func deflate(_ context: ChannelHandlerContext, _ input: ByteBuffer, flush: Int32) {
        do {
            try deflater.process(input, flush: flush, allocator: context.channel.allocator) { piece in
                var piece = piece
                if pending == nil { pending = piece } else { pending!.writeBuffer(&piece) }
            }
        } catch {
            context.fireErrorCaught(error)
        }
    }

    /// Writes the compressed bytes made so far; the writes they came from complete with it.
    private func writePending(_ context: ChannelHandlerContext) {
        let waiting = promises
        promises = []
        guard let bytes = pending else {
            // Nothing came out of the compressor yet: the bytes are still inside it, and the
            // next sync flush writes them.
            promises = waiting
            return
        }
        pending = nil
        var promise: EventLoopPromise<Void>?
        if !waiting.isEmpty {
            let combined = context.eventLoop.makePromise(of: Void.self)
            combined.futureResult.whenComplete { result in
                for p in waiting { p.completeWith(result) }
            }
            promise = combined
        }
        context.write(wrapOutboundOut(bytes), promise: promise)
    }
}
