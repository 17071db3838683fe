import COpenSSL

/// The one owner of the OpenSSL calls: HMAC-SHA256, which signs every private BloFin request.
public enum HMACSHA256 {
    /// The 32-byte HMAC-SHA256 of `message` under `key`.
    public static func digest(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBufferPointer { o in
                    HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count), m.bindMemory(to: UInt8.self).baseAddress, m.count,
                        o.baseAddress, &length)
                }
            }
        }
        // HMAC fails only when OpenSSL cannot allocate: nothing could be signed at all then.
        precondition(result != nil && length == 32, "OpenSSL HMAC-SHA256 failed")
        return Array(out.prefix(Int(length)))
    }

    /// The digest as lowercase hex text (what BloFin base64-encodes as its signature).
    public static func hex(key: [UInt8], message: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest(key: key, message: message) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
