import NIOCore

/// Plumbing every line-protocol session handler needs: writing answer lines, closing after the
/// last answer, and coming back to the event loop when off-loop work completes.
extension ChannelHandlerContext {
    /// Writes `text` and CRLF, without flushing (the framer flushes once per pipeline).
    public func writeLine(_ text: String) {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count + 2)
        buffer.writeString(text)
        buffer.writeString("\r\n")
        write(NIOAny(buffer), promise: nil)
    }

    /// Writes `text` as the last line, flushes, then closes the connection.
    public func writeLastLine(_ text: String) {
        writeLine(text)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    /// Calls `then` on this event loop when `future` completes, with `handler` and this
    /// context, unless the connection has closed meanwhile.
    public func onCompletion<Handler: AnyObject, T: Sendable>(
        of future: EventLoopFuture<T>, handler: Handler,
        then: @escaping (Handler, ChannelHandlerContext, Result<T, any Error>) -> Void
    ) {
        let bound = NIOLoopBound((handler, self, then), eventLoop: eventLoop)
        future.whenComplete { result in
            let (handler, context, then) = bound.value
            guard context.channel.isActive else { return }
            then(handler, context, result)
        }
    }
}
