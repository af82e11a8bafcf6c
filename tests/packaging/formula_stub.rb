# A stub of the Homebrew Formula DSL, enough to load packaging/homebrew/mcpstead.rb where
# Homebrew cannot be installed, and to run its install and test blocks against a local binary.
#
#   ruby formula_stub.rb FORMULA                       print name, metadata and url/sha256 per
#                                                      platform ("macos/arm", ...) as JSON
#   ruby formula_stub.rb FORMULA --install DIR PREFIX  run `install` in DIR (holding the unpacked
#                                                      archive) into PREFIX, then run `test`
require "json"
require "fileutils"
require "pathname"
require "tmpdir"

# Homebrew's Pathname#install moves files into the directory.
class Pathname
  def install(*names)
    mkpath
    names.each { |name| FileUtils.cp(name, join(File.basename(name))) }
  end
end

# The failure `assert_match` raises, as Homebrew's Minitest assertions do.
class AssertionFailed < StandardError; end

# The class-level DSL records what each platform block declares; the instance side runs blocks.
class Formula
  @formulas = []

  class << self
    attr_reader :formulas

    def inherited(subclass)
      super
      Formula.formulas << subclass
    end

    %i[desc homepage license].each do |key|
      define_method(key) { |value = nil| value.nil? ? meta[key] : meta[key] = value }
    end

    def version(value = nil)
      value.nil? ? meta[:version] : meta[:version] = value
    end

    def meta
      @meta ||= {}
    end

    def platforms
      @platforms ||= {}
    end

    def on_macos(&block) = within(:os, "macos", &block)
    def on_linux(&block) = within(:os, "linux", &block)
    def on_arm(&block) = within(:arch, "arm", &block)
    def on_intel(&block) = within(:arch, "intel", &block)

    def url(value) = (platform[:url] = value)
    def sha256(value) = (platform[:sha256] = value)
    def depends_on(*) = nil

    def test(&block)
      @test_block = block
    end

    attr_reader :test_block

    private

    def within(kind, value)
      raise "nested #{kind} block" if (@scope ||= {})[kind]

      @scope[kind] = value
      yield
    ensure
      @scope[kind] = nil
    end

    def platform
      key = "#{@scope&.fetch(:os, nil) || 'any'}/#{@scope&.fetch(:arch, nil) || 'any'}"
      platforms[key] ||= {}
    end
  end

  attr_reader :prefix, :testpath

  def initialize(prefix, testpath)
    @prefix = Pathname(prefix)
    @testpath = Pathname(testpath)
  end

  def version = self.class.version
  def bin = prefix/"bin"

  # Homebrew's default: `<executable> <args> <shell>` for bash, zsh and fish.
  def generate_completions_from_executable(executable, *args)
    { "bash" => "etc/bash_completion.d/mcpstead", "zsh" => "share/zsh/site-functions/_mcpstead",
      "fish" => "share/fish/vendor_completions.d/mcpstead.fish" }.each do |shell, path|
      target = prefix/path
      target.dirname.mkpath
      target.write(shell_output([executable, *args, shell].map(&:to_s).join(" ")))
    end
  end

  def shell_output(command, status = 0)
    output = `#{command}`
    raise AssertionFailed, "#{command} exited #{$?.exitstatus}, not #{status}" if $?.exitstatus != status

    output
  end

  def assert_match(expected, actual)
    ok = expected.is_a?(Regexp) ? expected.match?(actual) : actual.include?(expected)
    raise AssertionFailed, "expected #{actual.inspect} to match #{expected.inspect}" unless ok
  end
end

formula_path, mode, source, prefix = ARGV
load formula_path
klass = Formula.formulas.last
abort "no Formula subclass in #{formula_path}" if klass.nil?
case mode
when nil
  puts JSON.generate(
    name: klass.name, **klass.meta, platforms: klass.platforms,
    install: klass.method_defined?(:install), test: !klass.test_block.nil?
  )
when "--install"
  Dir.mktmpdir do |testpath|
    formula = klass.new(prefix, testpath)
    Dir.chdir(source) { formula.install }
    Dir.chdir(testpath) { formula.instance_eval(&klass.test_block) }
  end
  puts "ok"
else
  abort "usage: formula_stub.rb FORMULA [--install DIR PREFIX]"
end
