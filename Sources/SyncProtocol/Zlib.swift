import CZlib

/// zlib (RFC 1950) compression, bounded streaming inflate and CRC-32, over the system libz.
public enum Zlib {
    /// The zlib stream of `bytes` at `ProtocolLimits.compressionLevel`, with the default window,
    /// memory level and strategy, primed with the preset dictionary when asked, ending a deflate
    /// block (`Z_BLOCK`) before each offset of `blockEnds` (ascending, inside the bytes): equal
    /// input, equal output.
    public static func compress(_ bytes: [UInt8], dictionary: Bool = false, blockEnds: [Int] = []) -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(&stream, ProtocolLimits.compressionLevel, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed with \(status)")
        defer { deflateEnd(&stream) }
        if dictionary {
            status = PresetDictionary.bytes.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
            precondition(status == Z_OK, "deflateSetDictionary failed with \(status)")
        }
        // deflateBound covers the header, the dictionary id and the trailer; a block ended early
        // adds at most a stored block's header and a partial byte. Should that ever fall short,
        // the loop below grows the buffer rather than failing.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 8 * blockEnds.count)
        var produced = 0
        bytes.withUnsafeBufferPointer { inBuffer in
            var segmentStart = 0
            for segmentEnd in blockEnds + [bytes.count] {
                let flush = segmentEnd == bytes.count ? Z_FINISH : Z_BLOCK
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress.map { $0 + segmentStart })
                stream.avail_in = uInt(segmentEnd - segmentStart)
                repeat {
                    if produced == out.count { out += [UInt8](repeating: 0, count: max(64, out.count / 4)) }
                    status = out.withUnsafeMutableBufferPointer { outBuffer in
                        stream.next_out = outBuffer.baseAddress! + produced
                        stream.avail_out = uInt(outBuffer.count - produced)
                        let result = deflate(&stream, flush)
                        produced = outBuffer.count - Int(stream.avail_out)
                        return result
                    }
                    precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed with \(status)")
                } while flush == Z_FINISH ? status != Z_STREAM_END : (stream.avail_in > 0 || stream.avail_out == 0)
                segmentStart = segmentEnd
            }
        }
        out.removeSubrange(produced...)
        return out
    }

    /// Inflates one zlib stream that must come to exactly `expectedLength` bytes.
    ///
    /// Output grows in `ProtocolLimits.inflateChunkBytes` steps and stops as soon as it would pass
    /// `expectedLength`, so no declared or hostile length ever decides an allocation. The caller
    /// checks `expectedLength` against the body limit and the ratio first. The stream must ask for
    /// the preset dictionary (by its Adler-32) exactly when `dictionary` is set.
    public static func inflate(_ payload: [UInt8], expectedLength: Int, dictionary: Bool = false) throws(ProtocolError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ProtocolError(.decompressionFailed, "The decompressor could not start; try again.")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        // A message of a few kilobytes needs no 64 KiB chunk: one past the expected length is
        // enough to see it end (or overrun) in one step. The length was checked by the caller.
        var chunk = [UInt8](repeating: 0, count: min(ProtocolLimits.inflateChunkBytes, max(1, expectedLength) + 1))
        output.reserveCapacity(min(expectedLength, ProtocolLimits.inflateChunkBytes))
        var finished = false
        var failure: ProtocolError?
        var dictionaryGiven = false
        payload.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while !finished && failure == nil {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > expectedLength {
                    failure = ProtocolError(.lengthMismatch, "The body inflates to more than its declared length; the message is corrupt or hostile.")
                    break
                }
                output.append(contentsOf: chunk[..<produced])
                switch status {
                case Z_STREAM_END:
                    finished = true
                    if dictionary && !dictionaryGiven {
                        failure = ProtocolError(.decompressionFailed, "The envelope announces the preset dictionary but the zlib stream does not use it.")
                    }
                case Z_NEED_DICT:
                    // The stream's header names the dictionary by its Adler-32; only ours will do.
                    guard dictionary, !dictionaryGiven, stream.adler == PresetDictionary.adler32 else {
                        failure = ProtocolError(.decompressionFailed, "The zlib stream needs a preset dictionary the envelope does not announce.")
                        break
                    }
                    dictionaryGiven = true
                    let set = PresetDictionary.bytes.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, uInt($0.count)) }
                    if set != Z_OK { failure = ProtocolError(.decompressionFailed, "The preset dictionary could not be loaded.") }
                case Z_OK: if produced == 0 && stream.avail_in == 0 {
                    failure = ProtocolError(.decompressionFailed, "The compressed payload ends before its stream does; the message is truncated.")
                }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    failure = ProtocolError(.decompressionFailed, "The compressed payload ends before its stream does; the message is truncated.")
                default:
                    failure = ProtocolError(.decompressionFailed, "The payload is not a valid zlib stream.")
                }
            }
        }
        if let failure { throw failure }
        guard stream.avail_in == 0 else {
            throw ProtocolError(.trailingBytes, "Bytes follow the end of the compressed stream inside the payload.")
        }
        guard output.count == expectedLength else {
            throw ProtocolError(.lengthMismatch, "The body inflates to fewer bytes than declared; the message is corrupt.")
        }
        return output
    }

    /// Adler-32 of `bytes`, as zlib names a preset dictionary.
    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.adler32(1, buffer.baseAddress, uInt(buffer.count)))
        }
    }

    /// CRC-32 (ISO-HDLC, as zlib and gzip compute it) of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(CZlib.crc32(0, buffer.baseAddress, uInt(buffer.count)))
        }
    }
}
