# Homebrew formula for mcpstead: installs the release binary built by `deno compile`.
#
# The release workflow (.github/workflows/release.yml) rewrites version, homepage, url and sha256
# from the release's SHA256SUMS with scripts/update_formula.ts; the sha256 values in the
# repository are placeholders until the first release. Copy this file into a tap as
# Formula/mcpstead.rb, or install it directly: brew install --formula ./mcpstead.rb
class Mcpstead < Formula
  desc "One MCP endpoint in front of many MCP servers"
  homepage "https://github.com/mcpstead/mcpstead"
  version "0.2.0"
  license "MIT"

  on_macos do
    on_arm do
      url "https://github.com/mcpstead/mcpstead/releases/download/v0.2.0/mcpstead-0.2.0-aarch64-apple-darwin.tar.gz"
      sha256 "0000000000000000000000000000000000000000000000000000000000000000"
    end
    on_intel do
      url "https://github.com/mcpstead/mcpstead/releases/download/v0.2.0/mcpstead-0.2.0-x86_64-apple-darwin.tar.gz"
      sha256 "0000000000000000000000000000000000000000000000000000000000000000"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/mcpstead/mcpstead/releases/download/v0.2.0/mcpstead-0.2.0-aarch64-unknown-linux-gnu.tar.gz"
      sha256 "0000000000000000000000000000000000000000000000000000000000000000"
    end
    on_intel do
      url "https://github.com/mcpstead/mcpstead/releases/download/v0.2.0/mcpstead-0.2.0-x86_64-unknown-linux-gnu.tar.gz"
      sha256 "0000000000000000000000000000000000000000000000000000000000000000"
    end
  end

  def install
    bin.install "mcpstead"
    generate_completions_from_executable(bin/"mcpstead", "completions")
  end

  test do
    assert_match "mcpstead #{version}", shell_output("#{bin}/mcpstead --version")
    (testpath/"mcpstead.yaml").write <<~YAML
      port: 8766
      servers:
        - name: docs
          url: http://127.0.0.1:9/mcp
    YAML
    output = shell_output("#{bin}/mcpstead check --config #{testpath}/mcpstead.yaml")
    assert_match "docs  http://127.0.0.1:9/mcp", output
  end
end
