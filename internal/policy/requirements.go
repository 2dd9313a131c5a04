package policy

// VendorRequirements is the text `kensa policy init --vendor-requirements` writes: what
// a procurement specification should require the vendor to deliver so that an
// acceptance with kensa can prove what it claims, in English and in Japanese.
var VendorRequirements = map[string]string{
	"en": `# Delivery requirements for software acceptance

The supplier delivers, with every release, the following. The acceptance of a release
checks each item; a release missing one is not accepted.

1. Manifest of delivered files. A list of every delivered file with its SHA-256 digest
   (SHA256SUMS format), signed with the supplier's OpenPGP key or as a Sigstore bundle.
   The signing key or keyless identity is communicated in advance, out of band, and
   changes only by written notice.
2. Signatures. Every executable, installer, archive and container image is signed:
   files and images with Sigstore/cosign (bundles beside the files, image signatures in
   the registry), Windows executables and installers with Authenticode under a code
   signing certificate named in the contract, time-stamped by an RFC 3161 service.
3. SBOM. A software bill of materials for the release, in CycloneDX 1.5 or later or SPDX
   2.3 (JSON), generated from the build, listing every component with supplier, name,
   version, a unique identifier (purl or CPE), its hashes where it is a file, and the
   dependency relationships; with the SBOM's author and time of creation.
4. Build provenance. SLSA build provenance (v1) for every delivered artifact, signed by
   the build system, naming the builder, the source repository and the tag or commit
   the release was built from.
5. Change log. The changes since the previously accepted release: features, fixes,
   components added, removed, upgraded and downgraded, and executables added or removed.
6. Network destinations. Every host name, IP address and port the software contacts,
   with the purpose of each (updates, licensing, telemetry, APIs). Software that
   contacts a destination not declared is not accepted.
7. Buildable source. The source code of the release, with build instructions and the
   toolchain versions, sufficient to rebuild the delivered binaries; release tarballs
   must match the tagged source, generated files included.
8. Nothing undeclared. No executable, script or component outside the manifest and the
   SBOM; no install-time download of code.
`,
	"ja": `# ソフトウェア検収のための納品要件

受注者は、各リリースについて以下を納品する。検収では各項目を確認し、欠けるものがあるリリースは
検収しない。

1. 納品ファイル一覧。納品する全ファイルとその SHA-256 ダイジェストの一覧（SHA256SUMS 形式）。
   受注者の OpenPGP 鍵または Sigstore バンドルで署名すること。署名鍵またはキーレス署名の
   識別子は事前に別経路で通知し、変更は書面で通知すること。
2. 署名。すべての実行ファイル、インストーラ、アーカイブ、コンテナイメージに署名すること。
   ファイルとイメージは Sigstore/cosign（ファイルの隣にバンドル、イメージの署名はレジストリに）、
   Windows の実行ファイルとインストーラは契約で定めたコード署名証明書による Authenticode 署名と
   RFC 3161 タイムスタンプ。
3. SBOM。リリースのソフトウェア部品表（CycloneDX 1.5 以降または SPDX 2.3、JSON）。ビルドから
   生成し、全構成品目について供給者、名称、バージョン、一意の識別子（purl または CPE）、
   ファイルであればハッシュ、依存関係を記載し、SBOM の作成者と作成日時を含めること。
4. ビルド来歴。納品物ごとの SLSA ビルド来歴（v1）。ビルドシステムが署名し、ビルダー、
   ソースリポジトリ、ビルド元のタグまたはコミットを記載すること。
5. 変更履歴。前回検収したリリースからの変更：機能、修正、追加・削除・更新・ダウングレードした
   構成品目、追加・削除した実行ファイル。
6. 通信先。ソフトウェアが通信するすべてのホスト名、IP アドレス、ポートとその目的（更新、
   ライセンス、テレメトリ、API）。申告のない通信先に接続するソフトウェアは検収しない。
7. ビルド可能なソース。納品バイナリを再ビルドできるソースコード、ビルド手順、ツールチェーンの
   バージョン。リリース用 tarball は生成ファイルを含めタグのソースと一致すること。
8. 申告外のものがないこと。納品ファイル一覧と SBOM にない実行ファイル、スクリプト、構成品目を
   含めないこと。インストール時にコードをダウンロードしないこと。
`,
}
