/// The config files of the ePDG under test, with what every `SwanEPDGTestCase` test shares.
enum SwanEPDGConfig {
    /// The one subscriber (XOR SIM), in both mme.cfg and ims.cfg.
    static let ueDB = """
        ue_db: [
          { sim_algo: "xor", imsi: "001010123456789", K: "00112233445566778899aabbccddeeff", amf: 0x9001, sqn: "000000000000",
            impi: "001010123456789@ims.mnc001.mcc001.3gppnetwork.org", impu: ["001010123456789"] },
        ],
        """

    /// mme.cfg: the ePDG on namespace "a"'s address with the certificate of `dir`/pki/ims,
    /// NAT-T on 4500, TUN vowifi0; `epdg` adds keys to its section, `pdn` is the "ims" PDN's body.
    static func mme(dir: String, epdg: String, pdn: String) -> String {
        """
        log_options: "all.level=debug",
        log_filename: "\(dir)/vowifi.log",
        plmn: "00101",
        epdg: {
          bind_addr: "\(NetnsPair.addressA):500",
          certificate: "\(dir)/pki/ims.pem",
          private_key: "\(dir)/pki/ims.key",
        \(epdg)
          nat_t_port: 4500,
          tun_ifname: "vowifi0",
          sqn_db: "\(dir)/ue_db.sqlite",
        },
        pdn_list: [
          {
            access_point_name: "ims",
        \(pdn)
          },
        ],
        \(ueDB)
        """
    }
}
