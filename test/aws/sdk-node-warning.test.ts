/** Warnings the AWS SDK emits while a client of it is made on Node `version` (a fresh copy of the SDK). */
function sdkWarningsOn(version: string): string[] {
  const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  const actual = Object.getOwnPropertyDescriptor(process, 'version')!;
  Object.defineProperty(process, 'version', { ...actual, value: version });
  try {
    jest.isolateModules(() => {
      const { SQSClient } = require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');
      new SQSClient({ region: 'eu-west-1' });
    });
    return emitted.mock.calls.map(([warning]) => String(warning)).filter((w) => w.includes('NodeVersionSupportWarning'));
  } finally {
    Object.defineProperty(process, 'version', actual);
    emitted.mockRestore();
  }
}

describe("the AWS SDK's Node version warning", () => {
  it('is silenced in tests (test/setup.ts), whatever Node runs them', () => {
    expect(sdkWarningsOn('v20.0.0')).toEqual([]);
  });

  it('is still emitted without the test setting, as users of the product see it', () => {
    const setting = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    try {
      expect(sdkWarningsOn('v20.0.0')).toEqual([expect.stringContaining('will require node >=22')]);
    } finally {
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = setting;
    }
  });
});
